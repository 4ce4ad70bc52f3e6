// The pure parts of the process runtime: /proc/<pid>/stat and mountinfo
// parsing, mount validation, and the bubblewrap command line.

#include "runtime/process/sandbox.h"

#include <algorithm>
#include <functional>

#include <gtest/gtest.h>

#include "fakes/temp_dir.h"
#include "runtime/process/cgroup.h"
#include "runtime/process/proc.h"

namespace quader::runtime::process {
namespace {

TEST(ProcStatTest, ParsesFieldsAfterACommandNameWithSpacesAndParens) {
  std::string text =
      "4242 (my (odd) cmd) S 1 4240 4240 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 987654 10000 321 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
  std::optional<ProcStat> s = ParseProcStat(text);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->pid, 4242);
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->ppid, 1);
  EXPECT_EQ(s->pgrp, 4240);
  EXPECT_EQ(s->cpu_ticks, 7u + 3u + 2u + 1u);
  EXPECT_EQ(s->start_ticks, 987654u);
  EXPECT_EQ(s->rss_pages, 321);
  EXPECT_FALSE(ParseProcStat("12 (truncated) S 1 2").has_value());
  EXPECT_FALSE(ParseProcStat("garbage").has_value());
}

TEST(ProcStatTest, OwnProcessIsAliveAndAnotherStartTimeIsNot) {
  std::optional<ProcStat> self = ReadProcStat(getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(CheckLiveness(getpid(), self->start_ticks), Liveness::kAlive);
  EXPECT_EQ(CheckLiveness(getpid(), self->start_ticks + 1), Liveness::kGone);
  EXPECT_TRUE(PidReused(getpid(), self->start_ticks + 1));
  EXPECT_FALSE(PidReused(getpid(), self->start_ticks));
}

TEST(CgroupMountsTest, FindsHybridV1ControllersAndTheUnifiedMount) {
  // As on these machines: v1 controllers, each in its own hierarchy, plus an
  // empty cgroup2 at /sys/fs/cgroup/unified.
  const std::string mountinfo =
      "25 1 0:22 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "26 25 0:23 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "27 25 0:24 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
      "28 25 0:25 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "29 25 0:26 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  CgroupMounts m = ParseCgroupMounts(mountinfo);
  EXPECT_EQ(m.unified, "/sys/fs/cgroup/unified");
  EXPECT_EQ(m.memory, "/sys/fs/cgroup/memory");
  EXPECT_EQ(m.cpu, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(m.cpuacct, "/sys/fs/cgroup/cpuacct");

  CgroupMounts joint = ParseCgroupMounts(
      "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n");
  EXPECT_EQ(joint.cpu, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(joint.cpuacct, "/sys/fs/cgroup/cpu,cpuacct");

  CgroupMounts v2 =
      ParseCgroupMounts("31 1 0:28 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");
  EXPECT_EQ(v2.unified, "/sys/fs/cgroup");
  EXPECT_TRUE(v2.memory.empty());
}

TEST(ValidateMountsTest, RefusesWhatTheSandboxCannotHonour) {
  testing::TempDir dir;
  const std::string src = dir.path();
  struct Row {
    const char* why;
    std::vector<Mount> mounts;
    bool sandboxed;
    const char* error;  // nullptr: ok
  };
  const std::vector<Row> rows = {
      {"bind onto another path in the sandbox",
       {{MountKind::kHostPath, src, "/data", false, 0, "", ""}},
       true,
       nullptr},
      {"read-only volume in the sandbox",
       {{MountKind::kVolume, src, "/data", true, 0, "", ""}},
       true,
       nullptr},
      {"memory in the sandbox",
       {{MountKind::kMemory, "", "/dev/shm", false, 1 << 20, "", ""}},
       true,
       nullptr},
      {"bind onto itself needs no sandbox",
       {{MountKind::kHostPath, src, src + "/", false, 0, "", ""}},
       false,
       nullptr},
      {"bind elsewhere needs the sandbox",
       {{MountKind::kHostPath, src, "/data", false, 0, "", ""}},
       false,
       "mounts[0]: mounting"},
      {"read-only needs the sandbox",
       {{MountKind::kHostPath, src, src, true, 0, "", ""}},
       false,
       "mounts[0]: a read-only"},
      {"memory needs the sandbox",
       {{MountKind::kMemory, "", "/dev/shm", false, 0, "", ""}},
       false,
       "mounts[0]: a memory"},
      {"relative target",
       {{MountKind::kMemory, "", "scratch", false, 0, "", ""}},
       true,
       "mounts[0].target"},
      {"over the root", {{MountKind::kHostPath, src, "/", false, 0, "", ""}}, true, "mounts[0].target"},
      {"dot-dot", {{MountKind::kHostPath, src, "/a/../etc", false, 0, "", ""}}, true, "mounts[0].target"},
      {"twice the same target",
       {{MountKind::kMemory, "", "/x", false, 0, "", ""}, {MountKind::kHostPath, src, "/x/", false, 0, "", ""}},
       true,
       "mounts[1].target"},
      {"missing source",
       {{MountKind::kHostPath, src + "/nope", "/data", false, 0, "", ""}},
       true,
       "mounts[0].source"},
      {"relative source",
       {{MountKind::kVolume, "vol", "/data", false, 0, "", ""}},
       true,
       "mounts[0].source"},
      {"negative size", {{MountKind::kMemory, "", "/m", false, -1, "", ""}}, true, "mounts[0].size_bytes"},
  };
  for (const Row& row : rows) {
    Status st = ValidateMounts(row.mounts, row.sandboxed);
    if (row.error == nullptr) {
      EXPECT_TRUE(st.ok()) << row.why << ": " << st.ToString();
    } else {
      EXPECT_EQ(st.code(), Code::kInvalidArgument) << row.why;
      EXPECT_NE(st.message().find(row.error), std::string::npos) << row.why << ": " << st.message();
    }
  }
}

TEST(HostPathOfTest, MapsThroughTheDeepestCoveringMount) {
  std::vector<Mount> mounts = {{MountKind::kHostPath, "/srv/data", "/data", false, 0, "", ""},
                               {MountKind::kVolume, "/srv/vol", "/data/sub", false, 0, "", ""},
                               {MountKind::kMemory, "", "/scratch", false, 0, "", ""}};
  EXPECT_EQ(HostPathOf("/data/a.txt", mounts), "/srv/data/a.txt");
  EXPECT_EQ(HostPathOf("/data/sub/b", mounts), "/srv/vol/b");
  EXPECT_EQ(HostPathOf("/data", mounts), "/srv/data");
  EXPECT_EQ(HostPathOf("/database", mounts), "/database") << "a prefix is not a parent";
  EXPECT_EQ(HostPathOf("/usr/bin/env", mounts), "/usr/bin/env");
  EXPECT_EQ(HostPathOf("/scratch/run.sh", mounts), std::nullopt);
}

TEST(BwrapArgsTest, ShowsOnlySystemDirsReadOnlyThenMountsParentsFirst) {
  std::vector<RootEntry> root = {{"bin", RootEntry::Type::kSymlink, "usr/bin"},
                                 {"dev", RootEntry::Type::kDir, ""},
                                 {"etc", RootEntry::Type::kDir, ""},
                                 {"proc", RootEntry::Type::kDir, ""},
                                 {"root", RootEntry::Type::kDir, ""},
                                 {"srv", RootEntry::Type::kDir, ""},
                                 {"usr", RootEntry::Type::kDir, ""},
                                 {"info.json", RootEntry::Type::kFile, ""}};
  std::vector<Mount> mounts = {{MountKind::kVolume, "/srv/vol", "/data/sub", true, 0, "", ""},
                               {MountKind::kHostPath, "/srv/data/", "/data", false, 0, "", ""},
                               {MountKind::kMemory, "", "/dev/shm", false, 1048576, "", ""}};
  SandboxOptions so;
  so.uid = 2000007;
  so.gid = 2000007;
  so.user = "alice";
  so.passwd_file = "/state/etc/2000007.passwd";
  so.group_file = "/state/etc/2000007.group";
  so.hidden = {"/usr/local/quader-data", "/srv/quader", "/srv/data/state"};
  so.env = {{"PATH", "/usr/bin:/bin"}, {"TOKEN", "t"}};
  so.spliced = {{"/usr/share/q", {{"a", RootEntry::Type::kDir, ""}, {"l", RootEntry::Type::kSymlink, "a"}}}};
  std::vector<std::string> want = {
      "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
      "--uid", "2000007", "--gid", "2000007", "--hostname", "quader",
      "--symlink", "usr/bin", "/bin",  // system dirs only: no /root, /srv, /info.json
      "--ro-bind", "/etc", "/etc",     //
      "--ro-bind", "/usr", "/usr",     //
      "--ro-bind", "/state/etc/2000007.passwd", "/etc/passwd",  //
      "--ro-bind", "/state/etc/2000007.group", "/etc/group",    //
      "--tmpfs", "/usr/share/q", "--ro-bind", "/usr/share/q/a", "/usr/share/q/a",  // spliced: a mount
      "--symlink", "a", "/usr/share/q/l",                                          // point can be made
      "--ro-bind", "/sys", "/sys", "--tmpfs", "/sys/fs/cgroup", "--proc", "/proc", "--dev", "/dev",
      "--tmpfs", "/tmp", "--tmpfs", "/run", "--dir", "/var", "--tmpfs", "/var/tmp",
      "--tmpfs", "/home", "--dir", "/home/alice",
      "--bind", "/srv/data", "/data",           // depth 1
      "--ro-bind", "/srv/vol", "/data/sub",     // depth 2, in the spec's order
      "--perms", "1777", "--size", "1048576", "--tmpfs", "/dev/shm",
      "--tmpfs", "/usr/local/quader-data",      // hidden where a system dir shows it (/srv is not shown)
      "--tmpfs", "/data/state",                 // ... or where a mount shows it
      "--dir", "/work", "--chdir", "/work", "--clearenv",
      "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "TOKEN", "t", "--"};
  EXPECT_EQ(BwrapArgs(root, mounts, "/work", so), want);
  for (const std::string& a : BwrapArgs(root, mounts, "/work", so)) {
    EXPECT_NE(a, "--die-with-parent") << "workloads outlive the server";
  }
}

TEST(SplicePointsTest, TheDeepestExistingDirectoryAboveAMissingTargetInASystemDir) {
  std::vector<Mount> mounts = {{MountKind::kHostPath, "/srv/sdk", "/usr/share/quader-no-such/sdk", true, 0, "", ""},
                               {MountKind::kHostPath, "/srv/x", "/usr/bin", true, 0, "", ""},
                               {MountKind::kVolume, "/srv/u", "/mnt/alice", false, 0, "", ""}};
  auto points = SplicePoints(mounts);
  ASSERT_EQ(points.size(), 1u) << "an existing target needs nothing; one outside the system dirs neither";
  ASSERT_EQ(points.begin()->first, "/usr/share");
  EXPECT_FALSE(points.begin()->second.empty()) << "the host's /usr/share entries, bound back";
}

TEST(VisibleInSandboxTest, SystemDirsAndMountTargetsOnly) {
  std::vector<Mount> mounts = {{MountKind::kVolume, "/srv/u", "/mnt/alice", false, 0, "", ""}};
  EXPECT_TRUE(VisibleInSandbox("/usr/bin/python3", mounts));
  EXPECT_TRUE(VisibleInSandbox("/bin/sh", mounts));
  EXPECT_TRUE(VisibleInSandbox("/mnt/alice/train.py", mounts));
  EXPECT_FALSE(VisibleInSandbox("/mnt/bob/train.py", mounts));
  EXPECT_FALSE(VisibleInSandbox("/root/.bashrc", mounts));
  EXPECT_FALSE(VisibleInSandbox("/usrx/bin", mounts)) << "a prefix is not a parent";
}

}  // namespace
}  // namespace quader::runtime::process
