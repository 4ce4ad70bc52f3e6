#pragma once
// IP exposure of services (SPEC §7-8, cube-studio's `$name-external`
// Service): a dedicated TCP port on the external IP for each port of a
// service, forwarding raw TCP (HTTP or not: Neo4j's bolt, Redis, ...) to the
// service's ready replicas on 127.0.0.1, round robin, trying the next replica
// when one refuses the connection.
//
// One thread runs every listener and connection. Set() is the whole desired
// state: listeners not in it are closed (connections already open carry on
// until either side closes), new ones are opened, and the backends of kept
// ones are swapped in place.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/routes.h"

namespace quader::gateway {

struct Exposure {
  std::string name;     // "$project/$service-external:PORT", for logs and errors
  std::string address;  // the IP to listen on (SERVICE_EXTERNAL_IP), a literal
  uint16_t port = 0;
  std::vector<Backend> backends;  // empty: connections are accepted and closed at once
};

class TcpExposure {
 public:
  TcpExposure();
  ~TcpExposure();  // closes every listener and connection
  TcpExposure(const TcpExposure&) = delete;
  TcpExposure& operator=(const TcpExposure&) = delete;

  // Applies the desired exposures. Returns, per exposure that could not
  // listen ("address:port"), the reason (e.g. "Address already in use");
  // those are retried on the next Set().
  std::map<std::string, std::string> Set(const std::vector<Exposure>& exposures);

  // Connections forwarded so far (all listeners).
  uint64_t connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quader::gateway
