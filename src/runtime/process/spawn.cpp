#include "runtime/process/spawn.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace quader::runtime::process {
namespace {

// What the child reports through the status pipe when it cannot exec.
enum Step : int {
  kStepSession = 1,
  kStepCgroup,
  kStepRlimit,
  kStepStdio,
  kStepCwd,
  kStepExec,
  kStepUser,
  kStepPid,
  kStepEnter,
};

struct ChildError {
  int step = 0;
  int err = 0;
};

// Async-signal-safe decimal formatting for the pid written into cgroup.procs.
size_t FormatPid(pid_t pid, char* buf) {
  char tmp[16];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid > 0 && n < sizeof(tmp));
  for (size_t i = 0; i < n; ++i) {
    buf[i] = tmp[n - 1 - i];
  }
  return n;
}

[[noreturn]] void ChildFail(int fd, int step) {
  ChildError e{step, errno};
  ssize_t ignored = write(fd, &e, sizeof(e));
  (void)ignored;
  _exit(127);
}

// Runs in the child: only async-signal-safe calls from here to execve.
[[noreturn]] void RunChild(const SpawnRequest& req, char* const* argv, char* const* envp,
                           const std::vector<int>& cgroup_fds, int log_fd, int null_fd,
                           int status_fd) {
  if (setsid() < 0) {
    ChildFail(status_fd, kStepSession);
  }
  // Ignored signals and the signal mask survive exec: a server that ignores
  // SIGPIPE or blocks SIGTERM (for sigwait) must not pass that on, or pipes
  // misbehave and Stop's SIGTERM goes unheard.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    sigaction(sig, &dfl, nullptr);  // EINVAL for SIGKILL, SIGSTOP: fine
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  char pid_text[16];
  size_t pid_len = FormatPid(getpid(), pid_text);
  // The pid first: a server killed from here on finds this process by it
  // (joining a cgroup can take milliseconds).
  if (req.pid_fd >= 0) {
    if (write(req.pid_fd, pid_text, pid_len) != static_cast<ssize_t>(pid_len)) {
      ChildFail(status_fd, kStepPid);
    }
  }
  for (int fd : cgroup_fds) {
    if (write(fd, pid_text, pid_len) < 0) {
      ChildFail(status_fd, kStepCgroup);
    }
  }
  if (req.address_space_limit > 0) {
    rlimit lim{static_cast<rlim_t>(req.address_space_limit),
               static_cast<rlim_t>(req.address_space_limit)};
    if (setrlimit(RLIMIT_AS, &lim) != 0) {
      ChildFail(status_fd, kStepRlimit);
    }
  }
  if (req.max_processes > 0) {
    rlimit lim{static_cast<rlim_t>(req.max_processes), static_cast<rlim_t>(req.max_processes)};
    if (setrlimit(RLIMIT_NPROC, &lim) != 0) {
      ChildFail(status_fd, kStepRlimit);
    }
  }
  if (req.tty_fd >= 0) {
    if (dup2(req.tty_fd, 0) < 0 || dup2(req.tty_fd, 1) < 0 || dup2(req.tty_fd, 2) < 0 ||
        ioctl(0, TIOCSCTTY, 0) != 0) {
      ChildFail(status_fd, kStepStdio);
    }
  } else if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) {
    ChildFail(status_fd, kStepStdio);
  }
  if (chdir(req.cwd.c_str()) != 0) {
    ChildFail(status_fd, kStepCwd);
  }
  if (req.uid >= 0 && req.gid >= 0) {
    // Raw system calls: they change this task alone (glibc's wrappers would
    // broadcast to every thread of the server whose memory we borrow).
    if (syscall(SYS_setgroups, 0, nullptr) != 0 ||
        syscall(SYS_setresgid, req.gid, req.gid, req.gid) != 0 ||
        syscall(SYS_setresuid, req.uid, req.uid, req.uid) != 0 ||
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      ChildFail(status_fd, kStepUser);
    }
  }
  for (const EnterStep& step : req.enter) {
    int rc = 0;
    switch (step.kind) {
      case EnterStep::Kind::kSetns:
        rc = static_cast<int>(syscall(SYS_setns, step.fd, 0));
        break;
      case EnterStep::Kind::kChroot:
        rc = fchdir(step.fd) != 0 ? -1 : chroot(".");
        break;
      case EnterStep::Kind::kChdir:
        rc = fchdir(step.fd);
        break;
    }
    if (rc != 0) {
      ChildFail(status_fd, kStepEnter);
    }
  }
  // Whatever the server holds open (sockets, the store) must not leak into
  // the workload: mark every descriptor above stderr close-on-exec. The
  // status pipe is among them, which is how the parent learns exec worked.
#ifdef SYS_close_range
  syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
#endif
  // dup2 clears close-on-exec on the copy: descriptor 3 alone survives.
  if (req.fd3 >= 0 && (req.fd3 == 3 ? fcntl(3, F_SETFD, 0) : dup2(req.fd3, 3)) < 0) {
    ChildFail(status_fd, kStepStdio);
  }
  execve(argv[0], argv, envp);
  ChildFail(status_fd, kStepExec);
}

Status StepError(const SpawnRequest& req, const ChildError& e) {
  std::string why = std::strerror(e.err);
  switch (e.step) {
    case kStepCgroup:
      return errors::Unavailable("cannot join the workload's cgroup: " + why);
    case kStepCwd:
      return errors::Invalid("working_dir", "cannot enter \"" + req.cwd + "\": " + why);
    case kStepExec:
      return errors::Invalid("command", "cannot execute \"" + req.argv[0] + "\": " + why);
    case kStepRlimit:
      return errors::Internal("cannot set the workload's rlimits: " + why);
    case kStepUser:
      return errors::Internal("cannot switch to host uid " + std::to_string(req.uid) + ": " + why);
    case kStepPid:
      return errors::Internal("cannot record the workload's pid: " + why);
    case kStepEnter:
      return errors::Unavailable("cannot enter the workload's sandbox: " + why);
    default:
      return errors::Internal("cannot set up the workload process: " + why);
  }
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const std::string& s : v) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

void CloseAll(const std::vector<int>& fds) {
  for (int fd : fds) {
    if (fd >= 0) {
      close(fd);
    }
  }
}

}  // namespace

Result<int> Spawn(const SpawnRequest& req) {
  if (req.argv.empty()) {
    return errors::Invalid("command", "is empty");
  }
  std::vector<int> fds;  // everything opened here, closed before returning
  int log_fd = open(req.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  fds = {log_fd, null_fd};
  if (log_fd < 0 || null_fd < 0) {
    int err = errno;
    CloseAll(fds);
    return errors::Internal("cannot open " + req.log_path + ": " + std::strerror(err));
  }
  std::vector<int> cgroup_fds;
  for (const std::string& f : req.cgroup_procs) {
    int fd = open(f.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      CloseAll(fds);
      CloseAll(cgroup_fds);
      return errors::Unavailable("cannot open " + f + ": " + std::strerror(err));
    }
    cgroup_fds.push_back(fd);
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    int err = errno;
    CloseAll(fds);
    CloseAll(cgroup_fds);
    return errors::Internal(std::string("pipe: ") + std::strerror(err));
  }
  std::vector<char*> argv = CStrings(req.argv);
  std::vector<char*> envp = CStrings(req.env);
  // vfork, not fork: the child borrows the server's memory until it execs,
  // so starting a workload costs the same for a 20 MB server as for a 2 GB
  // one (fork copies the page tables, which made the run scheduler slower
  // as it grew). RunChild makes only system calls and never returns. All
  // signals are blocked around it, as glibc's posix_spawn does, so no
  // handler of the server runs on the borrowed stack.
  sigset_t all_signals, old_mask;
  sigfillset(&all_signals);
  pthread_sigmask(SIG_SETMASK, &all_signals, &old_mask);
  pid_t pid = vfork();
  if (pid == 0) {
    close(pipe_fds[0]);
    RunChild(req, argv.data(), envp.data(), cgroup_fds, log_fd, null_fd, pipe_fds[1]);
  }
  int fork_err = errno;
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  close(pipe_fds[1]);
  CloseAll(fds);
  CloseAll(cgroup_fds);
  if (pid < 0) {
    close(pipe_fds[0]);
    return errors::Unavailable(std::string("vfork: ") + std::strerror(fork_err));
  }
  ChildError e;
  ssize_t n;
  do {
    n = read(pipe_fds[0], &e, sizeof(e));
  } while (n < 0 && errno == EINTR);
  close(pipe_fds[0]);
  if (n == 0) {
    return static_cast<int>(pid);  // EOF: the exec closed the pipe
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof(e))) {
    return errors::Internal("the workload process failed before exec");
  }
  return StepError(req, e);
}

}  // namespace quader::runtime::process
