#include "runtime/kubernetes/kubeconfig.h"

#include <sodium.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace quader::runtime::kubernetes {
namespace fs = std::filesystem;
namespace {

Result<std::string> ReadFile(const fs::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errors::Invalid(what, "cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<std::string> Base64(const std::string& text, const std::string& what) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                        " \n\r\t", &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return errors::Invalid(what, "is not base64");
  }
  out.resize(len);
  return out;
}

// The named entry (cluster, user, context) of a kubeconfig list.
Result<YAML::Node> Named(const YAML::Node& root, const std::string& list, const std::string& field,
                         const std::string& name) {
  for (const auto& item : root[list]) {
    if (item["name"] && item["name"].as<std::string>() == name) {
      if (!item[field] || !item[field].IsMap()) {
        return errors::Invalid(list, "entry \"" + name + "\" has no " + field);
      }
      return item[field];
    }
  }
  return errors::Invalid(list, "no entry named \"" + name + "\"");
}

// `key-data` (base64) or `key` (a file, relative to the kubeconfig's directory).
Result<std::string> DataOrFile(const YAML::Node& node, const std::string& key, const fs::path& dir,
                               const std::string& where) {
  if (node[key + "-data"]) return Base64(node[key + "-data"].as<std::string>(), where + "." + key + "-data");
  if (node[key]) {
    fs::path p = node[key].as<std::string>();
    if (p.is_relative()) p = dir / p;
    return ReadFile(p, where + "." + key);
  }
  return std::string();
}

}  // namespace

Result<ClusterAccess> LoadKubeconfig(const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return errors::Invalid("kubeconfig", path + ": " + e.what());
  }
  try {
    ClusterAccess a;
    a.context = context.empty() && root["current-context"] ? root["current-context"].as<std::string>() : context;
    if (a.context.empty()) return errors::Invalid("kubeconfig", path + " has no current-context; name a cluster");
    auto ctx = Named(root, "contexts", "context", a.context);
    if (!ctx.ok()) return errors::Invalid("cluster", "kubeconfig " + path + ": " + ctx.status().message());
    fs::path dir = fs::path(path).parent_path();
    std::string cluster_name = (*ctx)["cluster"] ? (*ctx)["cluster"].as<std::string>() : "";
    std::string user_name = (*ctx)["user"] ? (*ctx)["user"].as<std::string>() : "";
    if ((*ctx)["namespace"]) a.ns = (*ctx)["namespace"].as<std::string>();

    QUADER_ASSIGN_OR_RETURN(YAML::Node cluster, Named(root, "clusters", "cluster", cluster_name));
    if (!cluster["server"]) return errors::Invalid("clusters", "cluster \"" + cluster_name + "\" has no server");
    a.server = cluster["server"].as<std::string>();
    while (!a.server.empty() && a.server.back() == '/') a.server.pop_back();
    a.insecure_skip_verify = cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
    QUADER_ASSIGN_OR_RETURN(a.ca_pem, DataOrFile(cluster, "certificate-authority", dir, "cluster " + cluster_name));

    if (!user_name.empty()) {
      QUADER_ASSIGN_OR_RETURN(YAML::Node user, Named(root, "users", "user", user_name));
      if (user["exec"] || user["auth-provider"]) {
        return errors::Invalid("users", "user \"" + user_name + "\" authenticates with an " +
                                            (user["exec"] ? "exec" : "auth-provider") +
                                            " plugin, which Quader does not run: use a token or a client certificate");
      }
      QUADER_ASSIGN_OR_RETURN(a.client_cert_pem, DataOrFile(user, "client-certificate", dir, "user " + user_name));
      QUADER_ASSIGN_OR_RETURN(a.client_key_pem, DataOrFile(user, "client-key", dir, "user " + user_name));
      if (a.client_cert_pem.empty() != a.client_key_pem.empty()) {
        return errors::Invalid("users", "user \"" + user_name + "\" has a client certificate without its key, or a key without its certificate");
      }
      if (user["token"]) a.token = user["token"].as<std::string>();
      if (user["tokenFile"]) {
        fs::path p = user["tokenFile"].as<std::string>();
        a.token_file = (p.is_relative() ? dir / p : p).string();
      }
    }
    return a;
  } catch (const YAML::Exception& e) {
    return errors::Invalid("kubeconfig", path + ": " + e.what());
  }
}

Result<ClusterAccess> InClusterAccess(const std::string& account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return errors::Unavailable("not inside a cluster (KUBERNETES_SERVICE_HOST is not set)");
  }
  ClusterAccess a;
  a.context = "in-cluster";
  std::string h = host;
  a.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  fs::path dir = account_dir;
  a.token_file = (dir / "token").string();
  auto token = ReadFile(dir / "token", "service account");
  if (!token.ok()) return errors::Unavailable("no service account token: " + token.status().message());
  QUADER_ASSIGN_OR_RETURN(a.ca_pem, ReadFile(dir / "ca.crt", "service account"));
  auto ns = ReadFile(dir / "namespace", "service account");
  if (ns.ok() && !ns->empty()) a.ns = *ns;
  while (!a.ns.empty() && (a.ns.back() == '\n' || a.ns.back() == ' ')) a.ns.pop_back();
  return a;
}

Result<ClusterAccess> DiscoverAccess(const std::string& context) {
  std::string path;
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    path = env;
    path = path.substr(0, path.find(':'));
  } else if (const char* home = std::getenv("HOME"); home && fs::exists(fs::path(home) / ".kube" / "config")) {
    path = (fs::path(home) / ".kube" / "config").string();
  }
  if (!path.empty()) return LoadKubeconfig(path, context);
  auto in_cluster = InClusterAccess();
  if (in_cluster.ok() && !context.empty()) {
    return errors::Invalid("cluster", "\"" + context + "\" names a kubeconfig context, but there is no kubeconfig (in-cluster access has only its own cluster)");
  }
  if (!in_cluster.ok()) {
    return errors::Unavailable("no kubeconfig ($KUBECONFIG, ~/.kube/config) and " + in_cluster.status().message());
  }
  return in_cluster;
}

}  // namespace quader::runtime::kubernetes
