// `quader version`: the version this binary was built as.

#include "cli/version.h"

#include "cli/commands/commands.h"

namespace quader::cli {

void AddVersionCommand(CLI::App& app, Io& io, std::vector<Command>& commands) {
  CLI::App* sub = app.add_subcommand("version", "Print the version of this binary");
  commands.push_back({sub, [&io] {
                        io.out << "quader " << kVersion << "\n";
                        return Outcome::Ok();
                      }});
}

}  // namespace quader::cli
