// HTTP requests as the API server reads them (api/http_server.h
// ParseRequest, the parser and limits of every connection) into the whole
// API (api/api.h: router, access checks, every handler, the apply route and
// the UI's static files) over an in-memory SQLite store. The store lives for
// the whole run, so requests see what earlier ones created.
//
// Credentials: "Authorization: Bearer admin" and "Bearer dev" are replaced
// by real tokens of the admin and of a non-admin user `dev`; any other token
// is sent as it is (and refused).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "api/api.h"
#include "api/http_server.h"
#include "auth/users.h"
#include "core/clock.h"
#include "fuzz/fuzz.h"
#include "store/store.h"

namespace {

using namespace quader;

struct World {
  std::unique_ptr<store::Store> store;
  SystemClock clock;
  api::Metrics metrics;
  std::unique_ptr<api::Api> api;
  std::map<std::string, std::string> tokens;  // "admin", "dev" -> token
};

void Must(const Status& st, const char* what) {
  if (st.ok()) return;
  std::fprintf(stderr, "http_fuzz: %s: %s\n", what, st.ToString().c_str());
  std::abort();
}

World* MakeWorld() {
  spdlog::set_level(spdlog::level::off);
  auto* w = new World;
  auto store = store::OpenStore("sqlite::memory:");
  Must(store.status(), "open the store");
  w->store = std::move(*store);
  Must(w->store->Migrate(), "migrate the store");
  std::string generated;
  Must(auth::Bootstrap(*w->store, w->clock, "admin-password", &generated), "bootstrap");
  Status st = w->store->Write([&](store::Tx& tx) -> Status {
    return auth::CreateUser(tx, auth::NewUser{"dev", "dev-password", "", false}, 1).status();
  });
  Must(st, "create the user dev");
  for (auto [user, password] : {std::pair{"admin", "admin-password"}, std::pair{"dev", "dev-password"}}) {
    auto session = auth::Login(*w->store, w->clock, user, password, 3600);
    Must(session.status(), "log in");
    w->tokens[user] = session->token;
  }
  // A built UI to serve: static paths are resolved under it.
  auto web = std::filesystem::temp_directory_path() / ("quader-fuzz-web-" + std::to_string(getpid()));
  static const std::filesystem::path web_dir = web;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(web_dir, ec);
  });
  std::filesystem::create_directories(web / "assets");
  std::ofstream(web / "index.html") << "<!doctype html><title>Quader</title>";
  std::ofstream(web / "assets" / "app.js") << "console.log(1)";
  api::ApiOptions options;
  options.web_dir = web.string();
  options.gateway_url = "http://127.0.0.1:8081";
  options.render.service_domain = "service.example.com";
  w->api = std::make_unique<api::Api>(*w->store, w->clock, w->metrics, options);
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = MakeWorld();
  api::HttpServerOptions limits;
  limits.max_body_bytes = 64 * 1024;
  auto req = api::ParseRequest(fuzz::Bytes(data, size), limits);
  if (!req.ok()) return 0;
  auto auth = req->headers.find("authorization");
  if (auth != req->headers.end()) {
    for (const auto& [user, token] : world->tokens) {
      if (auth->second == "Bearer " + user) auth->second = "Bearer " + token;
    }
  }
  req->remote = "127.0.0.1";
  std::string route;
  api::Response res = world->api->Handle(*req, &route);
  static const bool verbose = std::getenv("QUADER_FUZZ_VERBOSE") != nullptr;  // for writing seeds
  if (verbose) std::fprintf(stderr, "%s %s -> %d (%s) %.200s\n", req->method.c_str(), req->target.c_str(), res.status,
                            route.c_str(), res.body.c_str());
  if (res.status < 100 || res.status > 599) __builtin_trap();
  // A 500 here is a handler that threw or a store that failed: with an
  // in-memory store, neither should happen for any request.
  if (res.status == 500) __builtin_trap();
  // A streamed body (logs): its producer must stop when the client has gone.
  if (res.stream) res.stream([](std::string_view) { return false; });
  return 0;
}
