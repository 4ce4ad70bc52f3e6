#pragma once
// The CLI's verbs. Each Add* function adds one sub-command to the CLI11 app
// and records, in `commands`, the action to run when that sub-command is
// the one the user chose. Actions run after parsing, never during it.

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

#include "cli/exit_codes.h"
#include "core/status.h"
#include "cli/io.h"

namespace quader::cli {

// A sub-command and what running it does. `app` is owned by the parent app.
struct Command {
  CLI::App* app;
  std::function<Outcome()> action;
};

// Signature shared by every verb; `io` outlives the returned actions.
using AddCommandFn = void (*)(CLI::App& app, Io& io, std::vector<Command>& commands);

void AddLoginCommand(CLI::App& app, Io& io, std::vector<Command>& commands);    // login.cpp
void AddLogoutCommand(CLI::App& app, Io& io, std::vector<Command>& commands);   // login.cpp
void AddApplyCommand(CLI::App& app, Io& io, std::vector<Command>& commands);    // apply.cpp
void AddGetCommand(CLI::App& app, Io& io, std::vector<Command>& commands);      // get.cpp
void AddDeleteCommand(CLI::App& app, Io& io, std::vector<Command>& commands);   // delete.cpp
void AddRunCommand(CLI::App& app, Io& io, std::vector<Command>& commands);      // run.cpp
void AddLogsCommand(CLI::App& app, Io& io, std::vector<Command>& commands);     // logs.cpp
void AddStopCommand(CLI::App& app, Io& io, std::vector<Command>& commands);     // run.cpp
void AddRerunCommands(CLI::App& app, Io& io, std::vector<Command>& commands);   // run.cpp: rerun, retry
void AddTrialsCommand(CLI::App& app, Io& io, std::vector<Command>& commands);   // experiments.cpp
void AddDeployCommand(CLI::App& app, Io& io, std::vector<Command>& commands);   // deploy.cpp
void AddNotebookCommand(CLI::App& app, Io& io, std::vector<Command>& commands); // notebook.cpp
void AddRenderCommand(CLI::App& app, Io& io, std::vector<Command>& commands);   // render.cpp
void AddImportCommand(CLI::App& app, Io& io, std::vector<Command>& commands);   // import.cpp
void AddVersionCommand(CLI::App& app, Io& io, std::vector<Command>& commands);  // version.cpp
void AddDescribeCommand(CLI::App& app, Io& io, std::vector<Command>& commands); // describe.cpp
void AddCompletionCommand(CLI::App& app, Io& io, std::vector<Command>& commands); // completion.cpp
void AddArtifactsCommand(CLI::App& app, Io& io, std::vector<Command>& commands);  // artifacts.cpp: artifacts, cp
void AddExecCommand(CLI::App& app, Io& io, std::vector<Command>& commands);       // exec.cpp
void AddModelCommand(CLI::App& app, Io& io, std::vector<Command>& commands);      // model.cpp
void AddDatasetCommand(CLI::App& app, Io& io, std::vector<Command>& commands);    // dataset.cpp

// `quader stop --experiment NAME` (experiments.cpp).
Outcome StopExperiment(const std::string& name, const std::string& project, Io& io);

}  // namespace quader::cli
