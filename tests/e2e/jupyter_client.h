#pragma once
// A minimal Jupyter client for end-to-end tests: runs code on a kernel over
// its WebSocket (the Jupyter messaging protocol, shell channel) through
// Quader's gateway, signed in with a session cookie.

#include <chrono>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "core/documents.h"

namespace quader::testing {

// Runs `code` on kernel `kernel_id` of the notebook at `path` (on the
// gateway at `gateway`, "http://host:port") and returns its text/plain
// result, "error: ..." or "timed out".
inline std::string Execute(const std::string& gateway, const std::string& path, const std::string& token,
                           const std::string& kernel_id, const std::string& code) {
  std::string hostport = gateway.substr(std::string("http://").size());
  std::string host = hostport.substr(0, hostport.find(':'));
  std::string port = hostport.substr(hostport.find(':') + 1);
  namespace beast = boost::beast;
  namespace websocket = beast::websocket;
  using tcp = boost::asio::ip::tcp;
  using std::chrono::steady_clock;
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  websocket::stream<tcp::socket> ws(ioc);
  boost::asio::connect(ws.next_layer(), resolver.resolve(host, port));
  ws.set_option(websocket::stream_base::decorator(
      [&](websocket::request_type& req) { req.set(beast::http::field::cookie, "quader_session=" + token); }));
  ws.handshake(hostport, path + "api/kernels/" + kernel_id + "/channels?session_id=quader-e2e");
  Json msg = {{"header",
               {{"msg_id", "quader-e2e-1"},
                {"username", "e2e"},
                {"session", "quader-e2e"},
                {"msg_type", "execute_request"},
                {"version", "5.3"},
                {"date", ""}}},
              {"parent_header", Json::object()},
              {"metadata", Json::object()},
              {"content",
               {{"code", code},
                {"silent", false},
                {"store_history", false},
                {"user_expressions", Json::object()},
                {"allow_stdin", false},
                {"stop_on_error", true}}},
              {"channel", "shell"},
              {"buffers", Json::array()}};
  ws.write(boost::asio::buffer(msg.dump()));
  auto deadline = steady_clock::now() + std::chrono::seconds(60);
  while (steady_clock::now() < deadline) {
    beast::flat_buffer buf;
    ws.read(buf);
    Json reply = Json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
    if (!reply.is_object()) continue;
    std::string type = reply["header"].value("msg_type", "");
    if (type == "execute_result") {
      ws.close(websocket::close_code::normal);
      return reply["content"]["data"].value("text/plain", "");
    }
    if (type == "error") return "error: " + reply["content"].value("evalue", "");
  }
  return "timed out";
}

}  // namespace quader::testing
