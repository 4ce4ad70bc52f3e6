#pragma once
// Blocking calls over Boost.Asio with deadlines: an asynchronous operation
// started on a private io_context and run to completion on the calling
// thread, which is what lets beast::basic_stream enforce its expiry. Used by
// the Docker Engine and Kubernetes API clients (one connection per call).

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

namespace quader::runtime {

// `initiate(handler)` starts the operation; returns its error code.
template <typename Initiate>
boost::system::error_code RunToCompletion(boost::asio::io_context& ioc, Initiate&& initiate) {
  boost::system::error_code result = boost::asio::error::would_block;
  initiate([&result](boost::system::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

}  // namespace quader::runtime
