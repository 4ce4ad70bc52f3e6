// The `quader` binary: `quader server ...` runs the platform, every other
// verb is the CLI client.
#include <cstring>

#include "cli/cli.h"
#include "server/server.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "server") == 0) return quader::server::Run(argc, argv);
  return quader::cli::Run(argc, argv);
}
