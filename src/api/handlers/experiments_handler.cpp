// /api/v1/experiments (+ trials, logs, stop), the trial API the `nni`
// module calls (/api/v1/trial/...), and the Experiment kind (SPEC §6,
// docs/hpo.md "Experiments").
#include <algorithm>
#include <map>

#include "api/handlers/log_reply.h"
#include "api/handlers/artifacts_reply.h"
#include "api/handlers/common.h"
#include "api/handlers/handlers.h"
#include "api/handlers/mount_check.h"
#include "experiment/experiment_controller.h"
#include "experiment/experiment_spec.h"
#include "store/experiments.h"
#include "store/projects.h"

namespace quader::api {
namespace {

bool Maximize(const Json& spec) { return spec.value("objective", "maximize") != "minimize"; }

// `metrics`: this trial's intermediate results, by step.
Json TrialJson(const store::TrialRecord& t, const std::vector<store::MetricRecord>& metrics, bool with_intermediate) {
  Json params = Json::parse(t.params, nullptr, false);
  Json argv = Json::parse(t.argv, nullptr, false);
  Json j = {{"id", t.id},
            {"sequence", t.sequence},
            {"trial_id", t.key},
            {"state", t.state},
            {"reason", t.reason},
            {"parameters", params.is_discarded() ? Json::object() : params},
            {"value", t.final_value ? Json(*t.final_value) : Json(nullptr)},
            {"argv", argv.is_discarded() ? Json::array() : argv},
            {"exit_code", t.exit_code ? Json(*t.exit_code) : Json(nullptr)},
            {"workload", t.workload},
            {"created_at", FormatRfc3339Ms(t.created_at)},
            {"started_at", MsOrNull(t.started_at)},
            {"finished_at", MsOrNull(t.finished_at)}};
  Json inter = Json::array();
  if (with_intermediate) {
    for (const auto& m : metrics) inter.push_back({{"step", m.step}, {"value", m.value}, {"at", FormatRfc3339Ms(m.at)}});
  }
  j["intermediate_count"] = metrics.size();
  j["latest"] = metrics.empty() ? Json(nullptr) : Json(metrics.back().value);
  if (with_intermediate) j["intermediate"] = inter;
  return j;
}

Result<Json> ExperimentJson(store::Tx& tx, const store::ExperimentRecord& e) {
  Json spec = Json::parse(e.spec, nullptr, false);
  if (!spec.is_object()) spec = Json::object();
  QUADER_ASSIGN_OR_RETURN(auto trials, store::ListTrials(tx, e.id));
  Json counts = {{"total", trials.size()}, {"pending", 0},  {"running", 0},      {"succeeded", 0},
                 {"failed", 0},            {"stopped", 0}, {"early_stopped", 0}};
  const store::TrialRecord* best = nullptr;
  bool maximize = Maximize(spec);
  for (const auto& t : trials) {
    if (counts.contains(t.state)) counts[t.state] = counts[t.state].get<int64_t>() + 1;
    if (!t.final_value) continue;
    if (!best || (maximize ? *t.final_value > *best->final_value : *t.final_value < *best->final_value)) best = &t;
  }
  Json best_json = nullptr;
  if (best) {
    Json params = Json::parse(best->params, nullptr, false);
    best_json = {{"sequence", best->sequence},
                 {"trial_id", best->key},
                 {"value", *best->final_value},
                 {"parameters", params.is_discarded() ? Json::object() : params}};
  }
  return Json{{"id", e.id},
              {"key", e.key},
              {"name", e.name},
              {"project", e.project},
              {"describe", spec.value("description", "")},
              {"state", e.state},
              {"reason", e.reason},
              {"stop_requested", e.stop_requested},
              {"tuner", spec.value("tuner", "")},
              {"assessor", spec.value("assessor", "")},
              {"objective", spec.value("objective", "maximize")},
              {"max_trials", spec.value("max_trials", 0)},
              {"parallelism", spec.value("parallelism", 0)},
              {"max_duration", spec.value("max_duration", 0)},
              {"spec", spec},
              {"trials", counts},
              {"best", best_json},
              {"created_by", e.created_by},
              {"created_at", FormatRfc3339(FromUnixSeconds(e.created_at))},
              {"started_at", MsOrNull(e.started_at)},
              {"finished_at", MsOrNull(e.finished_at)}};
}

Result<store::ExperimentRecord> FindExperimentParam(store::Tx& tx, const Request& req, auth::ProjectAction action) {
  const std::string& text = req.Param("id");
  std::optional<store::ExperimentRecord> rec;
  if (IsNumericId(text)) {
    auto r = store::GetExperiment(tx, std::stoll(text));
    if (r.ok()) rec = *r;
  } else {
    auto project = store::GetProject(tx, ProjectParam(req));
    if (project.ok()) {
      QUADER_ASSIGN_OR_RETURN(rec, store::FindExperiment(tx, project->id, text));
    }
  }
  if (!rec || !auth::CheckProject(tx, req.who(), rec->project, auth::ProjectAction::kView).ok()) {
    return errors::NotFound("experiment", text);
  }
  QUADER_RETURN_IF_ERROR(auth::CheckProject(tx, req.who(), rec->project, action).status());
  return *rec;
}

// Saves a new experiment (pending; the controller starts it). Experiments are
// immutable: the same document again is unchanged, a different one refused.
Result<Change> PutExperiment(store::Tx& tx, const auth::Principal& who, const experiment::ExperimentSpec& spec,
                             bool must_be_new, int64_t now, int64_t* id) {
  QUADER_ASSIGN_OR_RETURN(auth::ProjectAccess a, auth::CheckProject(tx, who, spec.project, auth::ProjectAction::kUse));
  QUADER_RETURN_IF_ERROR(CheckMountsAllowed(who, a.project, "volume_mount", spec.trial.mounts));
  std::string text = spec.ToJson().dump();
  QUADER_ASSIGN_OR_RETURN(auto existing, store::FindExperiment(tx, a.project.id, spec.name));
  if (existing) {
    *id = existing->id;
    if (must_be_new) return errors::AlreadyExists("experiment", spec.name);
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(who, spec.project, existing->created_by, "experiment", spec.name));
    if (Json::parse(existing->spec, nullptr, false) == Json::parse(text)) return Change::kUnchanged;
    return errors::Conflict("experiment \"" + spec.name + "\" already exists with a different spec; experiments "
                            "cannot be changed: delete it first or use another name");
  }
  store::ExperimentRecord rec;
  rec.project_id = a.project.id;
  rec.name = spec.name;
  rec.key = experiment::NewExperimentKey();
  rec.spec = text;
  rec.state = "pending";
  rec.created_by = who.username;
  rec.created_at = now;
  rec.updated_at = now;
  QUADER_ASSIGN_OR_RETURN(rec, store::InsertExperiment(tx, rec));
  *id = rec.id;
  return Change::kCreated;
}

void NotifyController(HandlerContext& ctx) {
  if (ctx.experiments) ctx.experiments->Notify();
}

Response ListExperiments(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    bool all = false;
    QUADER_ASSIGN_OR_RETURN(auto ids, VisibleProjects(tx, req, &all));
    QUADER_ASSIGN_OR_RETURN(auto list, store::ListExperiments(tx, ids, all));
    for (const auto& e : list) {
      QUADER_ASSIGN_OR_RETURN(Json j, ExperimentJson(tx, e));
      j.erase("spec");
      items.push_back(std::move(j));
    }
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

Response CreateExperiment(HandlerContext& ctx, Request& req) {
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  auto spec = experiment::ParseExperimentSpec(*body);
  if (!spec.ok()) return ErrorReply(spec.status());
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    int64_t id = 0;
    QUADER_RETURN_IF_ERROR(PutExperiment(tx, req.who(), *spec, true, ctx.now(), &id).status());
    QUADER_ASSIGN_OR_RETURN(auto rec, store::GetExperiment(tx, id));
    QUADER_ASSIGN_OR_RETURN(out, ExperimentJson(tx, rec));
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  NotifyController(ctx);
  return JsonReply(out, 201);
}

Response GetExperiment(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto e, FindExperimentParam(tx, req, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(out, ExperimentJson(tx, e));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response StopExperiment(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto e, FindExperimentParam(tx, req, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), e.project, e.created_by, "experiment", e.name));
    if (e.state == "pending" || e.state == "running") QUADER_RETURN_IF_ERROR(store::RequestExperimentStop(tx, e.id));
    QUADER_ASSIGN_OR_RETURN(e, store::GetExperiment(tx, e.id));
    QUADER_ASSIGN_OR_RETURN(out, ExperimentJson(tx, e));
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  NotifyController(ctx);
  return JsonReply(out);
}

Response DeleteExperiment(HandlerContext& ctx, Request& req) {
  int64_t id = 0;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto e, FindExperimentParam(tx, req, auth::ProjectAction::kUse));
    QUADER_RETURN_IF_ERROR(auth::CheckPublicWrite(req.who(), e.project, e.created_by, "experiment", e.name));
    id = e.id;
    return store::DeleteExperiment(tx, e.id);
  });
  if (!st.ok()) return ErrorReply(st);
  // The controller stops the trials of an experiment that is gone.
  NotifyController(ctx);
  if (ctx.experiments) ctx.experiments->RemoveExperimentFiles(id);
  Response r;
  r.status = 204;
  return r;
}

Response ListTrials(HandlerContext& ctx, Request& req) {
  Json items = Json::array();
  bool with_intermediate = FlagParam(req, "intermediate");
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto e, FindExperimentParam(tx, req, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(auto trials, store::ListTrials(tx, e.id));
    QUADER_ASSIGN_OR_RETURN(auto metrics, store::ListExperimentMetrics(tx, e.id));
    std::map<int64_t, std::vector<store::MetricRecord>> by_trial;
    for (auto& m : metrics) by_trial[m.trial_id].push_back(std::move(m));
    for (const auto& t : trials) items.push_back(TrialJson(t, by_trial[t.id], with_intermediate));
    return Status::Ok();
  });
  return st.ok() ? JsonReply(ListJson(std::move(items))) : ErrorReply(st);
}

Result<int> SequenceParam(const Request& req) {
  const std::string& text = req.Param("sequence");
  if (!IsNumericId(text) || text.size() > 9) return errors::NotFound("trial", text);
  return std::stoi(text);
}

Response GetTrial(HandlerContext& ctx, Request& req) {
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto e, FindExperimentParam(tx, req, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(int seq, SequenceParam(req));
    QUADER_ASSIGN_OR_RETURN(auto t, store::FindTrial(tx, e.id, seq));
    if (!t) return errors::NotFound("trial", std::to_string(seq));
    QUADER_ASSIGN_OR_RETURN(auto metrics, store::ListMetrics(tx, t->id));
    out = TrialJson(*t, metrics, true);
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

// A trial the caller may see, of an experiment this server runs.
struct TrialRef {
  int64_t experiment = 0;
  int sequence = 0;
};
Result<TrialRef> FindTrialRef(HandlerContext& ctx, Request& req) {
  TrialRef ref;
  QUADER_RETURN_IF_ERROR(ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto e, FindExperimentParam(tx, req, auth::ProjectAction::kView));
    QUADER_ASSIGN_OR_RETURN(ref.sequence, SequenceParam(req));
    QUADER_ASSIGN_OR_RETURN(auto t, store::FindTrial(tx, e.id, ref.sequence));
    if (!t) return errors::NotFound("trial", std::to_string(ref.sequence));
    ref.experiment = e.id;
    return Status::Ok();
  }));
  if (!ctx.experiments) return errors::Unavailable("experiments are not run by this server");
  return ref;
}

Response TrialLogs(HandlerContext& ctx, Request& req) {
  auto ref = FindTrialRef(ctx, req);
  if (!ref.ok()) return ErrorReply(ref.status());
  bool follow = FlagParam(req, "follow");
  experiment::ExperimentController* experiments = ctx.experiments;
  return LogReply(req, [experiments, ref = *ref, follow](const ChunkWriter& write) {
    (void)experiments->FollowLog(ref.experiment, ref.sequence, follow, write);
  });
}

// A trial's /outputs: the listing, or (`file`) one file of it.
Response TrialArtifacts(HandlerContext& ctx, Request& req, bool file) {
  auto ref = FindTrialRef(ctx, req);
  if (!ref.ok()) return ErrorReply(ref.status());
  const std::string dir = ctx.experiments->OutputsDir(ref->experiment, ref->sequence);
  return file ? ArtifactFileReply(req, dir) : ArtifactListReply(dir);
}

// --- the trial API (the `nni` module): authenticated by the trial's own token

Response TrialParameters(HandlerContext& ctx, Request& req) {
  bool from_cookie = false;
  std::string token = TokenOf(req, &from_cookie);
  if (from_cookie) token.clear();
  Json out;
  Status st = ctx.store.Read([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto t, experiment::AuthenticateTrial(tx, token));
    QUADER_ASSIGN_OR_RETURN(auto e, store::GetExperiment(tx, t.experiment_id));
    Json params = Json::parse(t.params, nullptr, false);
    out = {{"parameter_id", t.sequence},
           {"parameters", params.is_discarded() ? Json::object() : params},
           {"experiment_id", e.key},
           {"trial_id", t.key},
           {"sequence_id", t.sequence}};
    return Status::Ok();
  });
  return st.ok() ? JsonReply(out) : ErrorReply(st);
}

Response TrialMetrics(HandlerContext& ctx, Request& req) {
  bool from_cookie = false;
  std::string token = TokenOf(req, &from_cookie);
  if (from_cookie) token.clear();
  auto body = JsonBody(req);
  if (!body.ok()) return ErrorReply(body.status());
  if (!body->is_object()) return ErrorReply(errors::Invalid("body", "must be an object {\"type\", \"value\"}"));
  std::string type = body->value("type", "");
  if (type != "PERIODICAL" && type != "FINAL") {
    return ErrorReply(errors::Invalid("type", "must be PERIODICAL (intermediate) or FINAL"));
  }
  Json value = body->value("value", Json());
  if (value.is_object() && value.contains("default")) value = value["default"];
  if (!value.is_number() || !std::isfinite(value.get<double>())) {
    return ErrorReply(errors::Invalid("value", "must be a finite number (or an object whose \"default\" is one)"));
  }
  int64_t trial_id = 0;
  int step = -1;
  Status st = ctx.store.Write([&](store::Tx& tx) -> Status {
    QUADER_ASSIGN_OR_RETURN(auto t, experiment::AuthenticateTrial(tx, token));
    trial_id = t.id;
    if (type == "FINAL") {
      if (t.final_value) return errors::Conflict("this trial has already reported its final result");
      return store::SetTrialFinalValue(tx, t.id, value.get<double>());
    }
    QUADER_ASSIGN_OR_RETURN(step, store::AppendMetric(tx, t.id, value.get<double>(), ctx.now_ms()));
    return Status::Ok();
  });
  if (!st.ok()) return ErrorReply(st);
  if (ctx.experiments && type == "PERIODICAL") ctx.experiments->MetricReported(trial_id);
  Json out = {{"ok", true}};
  if (step >= 0) out["step"] = step;
  return JsonReply(out);
}

}  // namespace

void RegisterExperimentRoutes(Router& router, HandlerContext& ctx) {
  auto bind = [&ctx](Response (*fn)(HandlerContext&, Request&)) {
    return [&ctx, fn](Request& req) { return fn(ctx, req); };
  };
  router.Add("GET", "/api/v1/experiments", Access::kSignedIn, bind(ListExperiments),
             {"List experiments (?project=P)", "experiments", "", "List:Experiment"});
  router.Add("POST", "/api/v1/experiments", Access::kSignedIn, bind(CreateExperiment),
             {"Create and start an experiment", "experiments", "ExperimentDocument", "Experiment", 201});
  router.Add("GET", "/api/v1/experiments/{id}", Access::kSignedIn, bind(GetExperiment),
             {"An experiment with trial counts and its best trial (id, or name with ?project=P)", "experiments", "",
              "Experiment"});
  router.Add("DELETE", "/api/v1/experiments/{id}", Access::kSignedIn, bind(DeleteExperiment),
             {"Delete an experiment (its running trials are stopped)", "experiments", "", "", 204});
  router.Add("POST", "/api/v1/experiments/{id}/stop", Access::kSignedIn, bind(StopExperiment),
             {"Stop an experiment and its running trials", "experiments", "", "Experiment"});
  router.Add("GET", "/api/v1/experiments/{id}/trials", Access::kSignedIn, bind(ListTrials),
             {"Trials of an experiment (?intermediate=1 adds every intermediate result)", "experiments", "",
              "List:Trial"});
  router.Add("GET", "/api/v1/experiments/{id}/trials/{sequence}", Access::kSignedIn, bind(GetTrial),
             {"One trial with its intermediate results", "experiments", "", "Trial"});
  router.Add("GET", "/api/v1/experiments/{id}/trials/{sequence}/logs", Access::kSignedIn, bind(TrialLogs),
             {"A trial's log (?follow=1 streams it while the trial runs; ?timestamps=1 keeps each line's capture time)", "experiments", "", "Text"});
  router.Add("GET", "/api/v1/experiments/{id}/trials/{sequence}/artifacts", Access::kSignedIn,
             [&ctx](Request& req) { return TrialArtifacts(ctx, req, false); },
             {"The files a trial left in /outputs: {items: [{path, type, size, modified_at}], truncated}",
              "experiments", "", ""});
  router.Add("GET", "/api/v1/experiments/{id}/trials/{sequence}/artifact", Access::kSignedIn,
             [&ctx](Request& req) { return TrialArtifacts(ctx, req, true); },
             {"One file of a trial's /outputs (?path=P; ?download=1 as an attachment)", "experiments", "", ""});
  router.Add("GET", "/api/v1/trial/parameters", Access::kPublic, bind(TrialParameters),
             {"For trials (nni.get_next_parameter): this trial's parameters; Bearer QUADER_TRIAL_TOKEN", "trials",
              "", "TrialParameters"});
  router.Add("POST", "/api/v1/trial/metrics", Access::kPublic, bind(TrialMetrics),
             {"For trials (nni.report_*_result): an intermediate (PERIODICAL) or FINAL result; Bearer "
              "QUADER_TRIAL_TOKEN",
              "trials", "TrialMetric", "TrialMetricReply"});

  if (ctx.experiments) {
    auto& gauges = prometheus::BuildGauge()
                       .Name("quader_hpo")
                       .Help("Hyperparameter-search experiments: see the `what` label")
                       .Register(ctx.metrics.registry());
    auto& active = gauges.Add({{"what", "active_experiments"}});
    auto& running = gauges.Add({{"what", "running_trials"}});
    auto& started = gauges.Add({{"what", "trials_started_total"}});
    auto& finished = gauges.Add({{"what", "trials_finished_total"}});
    auto& early = gauges.Add({{"what", "trials_early_stopped_total"}});
    ctx.metrics.AddRefresher([&ctx, &active, &running, &started, &finished, &early] {
      auto s = ctx.experiments->stats();
      active.Set(static_cast<double>(s.active_experiments));
      running.Set(static_cast<double>(s.running_trials));
      started.Set(static_cast<double>(s.trials_started));
      finished.Set(static_cast<double>(s.trials_finished));
      early.Set(static_cast<double>(s.trials_early_stopped));
    });
  }

  ctx.kinds.Register("Experiment", /*project_scoped=*/true,
                     // The apply route notifies the controller after its transaction commits.
                     [](store::Tx& tx, const auth::Principal& who, const Json& doc, int64_t now) -> Result<Change> {
                       QUADER_ASSIGN_OR_RETURN(auto spec, experiment::ParseExperimentSpec(doc));
                       int64_t id = 0;
                       return PutExperiment(tx, who, spec, false, now, &id);
                     });
}

}  // namespace quader::api
