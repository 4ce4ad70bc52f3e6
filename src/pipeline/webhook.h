#pragma once
// A pipeline's failure webhook (docs/pipelines.md): one JSON POST when a run
// ends in a state the pipeline names. Fire-and-forget on its own thread, with
// a 10 s deadline; failures are logged, never retried.
//
// Where a webhook may go (docs/pipelines.md "Webhooks"): not to loopback,
// link-local (169.254.0.0/16, fe80::/10) or unspecified addresses, nor to
// this machine's own addresses at the server's own listening ports, unless
// an admin allows the destination (`quader server --webhook-allow CIDR,...`).
// Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) are allowed: a
// corporate receiver is often on one. Checked when a pipeline is saved (for
// addresses written as such, and `localhost`) and again when it is sent,
// after DNS resolution, so a name that later resolves elsewhere gains nothing.

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/documents.h"
#include "core/status.h"

namespace quader::pipeline {

// An address range: "10.0.0.0/8", "::1/128"; a bare address is one host.
struct Cidr {
  std::vector<uint8_t> network;  // 4 or 16 bytes
  int prefix = 0;
};
// Parses a comma-separated list; kInvalidArgument naming `field` and the entry.
Result<std::vector<Cidr>> ParseCidrList(const std::string& field, const std::string& text);

// The destinations webhooks may reach. Thread-safe.
class WebhookGuard {
 public:
  explicit WebhookGuard(std::vector<Cidr> allow = {}) : allow_(std::move(allow)) {}

  // The server's own listening ports (API, gateway), known once they are bound.
  void AddOwnPort(uint16_t port);

  // Ok, or kPermissionDenied naming `url`, the address and why, when
  // `address` (a literal IPv4 or IPv6 address) at `port` is refused.
  // `own_address`: the address is one of this machine's.
  Status CheckAddress(const std::string& url, const std::string& address, uint16_t port, bool own_address) const;

 private:
  const std::vector<Cidr> allow_;
  mutable std::mutex mu_;
  std::set<uint16_t> own_ports_;  // guarded by mu_
};

// The check when a pipeline is saved: a URL whose host is a literal address
// or `localhost` (and *.localhost) is checked as the send will be; other
// names are checked at send time. `guard` null: no allow list, no own ports.
// kInvalidArgument for a malformed URL; kPermissionDenied for a refused one.
Status CheckWebhookUrl(const std::string& url, const WebhookGuard* guard);

// POSTs `payload` to `url` (http:// or https://) and returns the HTTP status
// (kUnavailable when the host cannot be reached or does not answer in time;
// kPermissionDenied when every address it resolves to is refused by `guard`,
// null meaning the defaults).
Result<int> PostWebhook(const std::string& url, const Json& payload, const WebhookGuard* guard);
// PostWebhook on a detached thread, which shares `guard` (may be null); the
// outcome is logged.
void SendWebhookAsync(const std::string& url, const Json& payload, std::shared_ptr<const WebhookGuard> guard);

}  // namespace quader::pipeline
