#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/commands/commands.h"
#include "cli/exit_codes.h"
#include "cli/version.h"

namespace quader::cli {
namespace {

// Every verb, in the order `--help` lists them.
constexpr AddCommandFn kVerbs[] = {
    AddLoginCommand,  AddLogoutCommand, AddApplyCommand, AddGetCommand, AddDescribeCommand, AddDeleteCommand,
    AddRunCommand,    AddRerunCommands, AddLogsCommand,   AddArtifactsCommand, AddExecCommand, AddStopCommand,  AddTrialsCommand, AddDeployCommand,
    AddNotebookCommand, AddModelCommand, AddDatasetCommand, AddRenderCommand, AddImportCommand, AddVersionCommand, AddCompletionCommand,
};

// The verb a command belongs to: `import` for `import cube-studio`.
std::string VerbOf(const CLI::App* command) {
  while (command->get_parent() && command->get_parent()->get_parent()) command = command->get_parent();
  return command->get_name();
}

// CLI11 would report a mistyped verb as "A subcommand is required"; name it.
Outcome CheckVerb(const std::vector<std::string>& args, const std::vector<Command>& commands) {
  if (args.size() < 2 || args[1].empty() || args[1][0] == '-') return Outcome::Ok();
  std::string known;
  for (const Command& command : commands) {
    std::string verb = VerbOf(command.app);
    if (verb == args[1]) return Outcome::Ok();
    if (known.find(verb) == std::string::npos) known += (known.empty() ? "" : ", ") + verb;
  }
  return Outcome::Usage("unknown command \"" + args[1] + "\" (commands: " + known + ")");
}

Outcome RunChosen(const std::vector<Command>& commands) {
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.action();
  }
  return Outcome::Usage("no command given");
}

}  // namespace

int RunWithIo(const std::vector<std::string>& args, Io& io) {
  CLI::App app("Quader command-line client.", "quader");
  app.footer("The server itself runs with `quader server` (see `quader server --help`).");
  app.set_version_flag("--version", std::string("quader ") + kVersion);
  app.require_subcommand(1);
  app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
    return "error: " + CLI::FailureMessage::simple(failed, e);
  });
  std::vector<Command> commands;
  for (AddCommandFn add : kVerbs) add(app, io, commands);
  Outcome verb = CheckVerb(args, commands);
  if (verb.exit_code() != kExitOk) return Finish(verb, io.err);

  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return ExitCodeForParseError(app.exit(e, io.out, io.err));
  }
  try {
    return Finish(RunChosen(commands), io.err);
  } catch (const std::exception& e) {
    // Commands report failures as Status; this only catches a library
    // exception that slipped through, so the user still gets a message.
    return Finish(Outcome::FromStatus(errors::Internal(e.what())), io.err);
  }
}

int Run(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  Io io{std::cin, std::cout, std::cerr, isatty(STDIN_FILENO) == 1};
  int code = RunWithIo(args, io);
  std::cout.flush();
  return code;
}

}  // namespace quader::cli
