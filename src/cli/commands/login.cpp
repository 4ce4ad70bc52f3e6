// `quader login` and `quader logout`: obtain a token and keep it in the
// config file (cli/config.h), or revoke it and forget it.

#include <memory>
#include <string>

#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/config.h"
#include "cli/password.h"

namespace quader::cli {
namespace {

struct LoginOptions {
  std::string server;
  std::string user;
  std::string password;
  bool password_given = false;
};

// --server, else $QUADER_SERVER, else the server of the last login.
Result<std::string> ChooseServer(const std::string& flag, const Config& stored) {
  std::string server = !flag.empty() ? flag : WithEnvironment(stored).server;
  if (server.empty()) return errors::Invalid("--server", "is required (no server stored yet)");
  return NormalizeServerUrl(server);
}

Outcome Login(const LoginOptions& opts, Io& io) {
  const std::string path = ConfigPath();
  auto stored = LoadConfig(path);
  if (!stored.ok()) return Outcome::FromStatus(stored.status());
  auto server = ChooseServer(opts.server, stored.value());
  if (!server.ok()) return Outcome::Usage(server.status().message());

  std::string password = opts.password;
  if (!opts.password_given) {
    auto read = ReadPassword(io);
    if (!read.ok()) return Outcome::FromStatus(read.status());
    password = std::move(read).value();
  }

  Client anonymous(server.value(), "");
  auto reply = anonymous.Post("/login", {{"username", opts.user}, {"password", password}});
  if (!reply.ok()) return Outcome::FromStatus(reply.status());
  auto token = reply->find("token");
  if (token == reply->end() || !token->is_string() || token->get<std::string>().empty()) {
    return Outcome::FromStatus(errors::Internal("the login reply has no token"));
  }

  Config config{server.value(), token->get<std::string>(), opts.user};
  Status saved = SaveConfig(path, config);
  if (!saved.ok()) return Outcome::FromStatus(saved);
  io.out << "Logged in to " << config.server << " as " << config.user << ".\n";
  return Outcome::Ok();
}

Outcome Logout(Io& io) {
  const std::string path = ConfigPath();
  auto stored = LoadConfig(path);
  if (!stored.ok()) return Outcome::FromStatus(stored.status());
  auto client = Client::FromConfig(WithEnvironment(stored.value()));
  if (!client.ok()) {
    io.out << "Not logged in.\n";
    return Outcome::Ok();
  }
  auto reply = client->Post("/logout", Json::object());
  // A refused token is as good as revoked; any other failure keeps the
  // token so that logout can be retried once the server answers.
  if (!reply.ok() && reply.status().code() != Code::kUnauthenticated) {
    return Outcome::FromStatus(reply.status());
  }
  Config config = std::move(stored).value();
  config.token.clear();
  Status saved = SaveConfig(path, config);
  if (!saved.ok()) return Outcome::FromStatus(saved);
  io.out << "Logged out of " << client->server() << ".\n";
  return Outcome::Ok();
}

}  // namespace

void AddLoginCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  auto opts = std::make_shared<LoginOptions>();
  CLI::App* sub = app.add_subcommand("login", "Log in to a Quader server and store the token");
  sub->add_option("--server", opts->server,
                  "Server URL, e.g. http://127.0.0.1:8080 (default: $QUADER_SERVER or the "
                  "last server logged in to)");
  sub->add_option("--user,-u", opts->user, "User name")->required();
  CLI::Option* password =
      sub->add_option("--password,-p", opts->password,
                      "Password (default: prompt on the terminal, or the first line of stdin)");
  commands.push_back({sub, [opts, password, &io] {
                        opts->password_given = password->count() > 0;
                        return Login(*opts, io);
                      }});
}

void AddLogoutCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  CLI::App* sub = app.add_subcommand("logout", "Revoke the stored token and forget it");
  commands.push_back({sub, [&io] { return Logout(io); }});
}

}  // namespace quader::cli
