#include "pipeline/expression.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <date/date.h>

namespace quader::pipeline {
namespace {

constexpr int kMaxDepth = 64;
constexpr double kMaxSeconds = 1e4 * 366 * 86400;  // a timedelta of about 10,000 years
constexpr const char* kSupported =
    "supported: datetime.datetime.now(), datetime.date.today(), datetime.timedelta(...), .strftime(FMT), "
    "+, - and the run's variables";
const char* const kDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Pad(int64_t v, int width, char fill = '0') {
  std::string s = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(s.size()) < width) s.insert(s.begin(), fill);
  return v < 0 ? "-" + s : s;
}

// A naive datetime as seconds since 1970-01-01 00:00:00, and its parts.
struct Civil {
  int64_t year, month, day, hour, minute, second, weekday /* Monday 0 */, yday /* 1.. */;
};

Civil ToCivil(int64_t seconds) {
  date::sys_seconds tp{std::chrono::seconds(seconds)};
  auto dp = date::floor<date::days>(tp);
  date::year_month_day ymd{dp};
  int64_t in_day = (tp - dp).count();
  auto jan1 = date::sys_days{ymd.year() / date::January / 1};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
          in_day / 3600,                (in_day / 60) % 60,                   in_day % 60,
          (date::weekday{dp}.c_encoding() + 6) % 7, (dp - jan1).count() + 1};
}

int64_t MinSeconds() { return date::sys_seconds{date::sys_days{date::year{1} / 1 / 1}}.time_since_epoch().count(); }
int64_t MaxSeconds() {
  return date::sys_seconds{date::sys_days{date::year{9999} / 12 / 31}}.time_since_epoch().count() + 86399;
}

struct Value {
  enum class Kind { kText, kNumber, kDateTime, kDate, kTimeDelta };
  Kind kind = Kind::kText;
  std::string text;
  double number = 0;
  bool integral = false;
  int64_t seconds = 0;  // datetime and date: since 1970; timedelta: length

  static Value Text(std::string s) { return {Kind::kText, std::move(s)}; }
  static Value Number(double d, bool integral) { return {Kind::kNumber, "", d, integral}; }
  static Value Time(Kind k, int64_t s) { return {k, "", 0, false, s}; }
};

const char* KindName(Value::Kind k) {
  switch (k) {
    case Value::Kind::kText: return "text";
    case Value::Kind::kNumber: return "a number";
    case Value::Kind::kDateTime: return "a datetime";
    case Value::Kind::kDate: return "a date";
    case Value::Kind::kTimeDelta: return "a timedelta";
  }
  return "a value";
}

std::string NumberText(const Value& v) {
  if (v.integral && std::fabs(v.number) < 1e15) return std::to_string(static_cast<int64_t>(v.number));
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v.number);
  return std::string(buf, p);
}

std::string TimeDeltaText(int64_t s) {
  // Python's str(timedelta): "-1 day, 23:00:00", "2 days, 0:00:00", "1:30:00".
  int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
  int64_t rest = s - days * 86400;
  std::string out;
  if (days != 0) out = std::to_string(days) + (days == 1 || days == -1 ? " day, " : " days, ");
  return out + std::to_string(rest / 3600) + ":" + Pad((rest / 60) % 60, 2) + ":" + Pad(rest % 60, 2);
}

std::string ToText(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kText: return v.text;
    case Value::Kind::kNumber: return NumberText(v);
    case Value::Kind::kDate: {
      Civil c = ToCivil(v.seconds);
      return Pad(c.year, 4) + "-" + Pad(c.month, 2) + "-" + Pad(c.day, 2);
    }
    case Value::Kind::kDateTime: {
      Civil c = ToCivil(v.seconds);
      return Pad(c.year, 4) + "-" + Pad(c.month, 2) + "-" + Pad(c.day, 2) + " " + Pad(c.hour, 2) + ":" +
             Pad(c.minute, 2) + ":" + Pad(c.second, 2);
    }
    case Value::Kind::kTimeDelta: return TimeDeltaText(v.seconds);
  }
  return "";
}

// Python's strftime over the C locale, for the directives in the header.
// An unsupported directive sets `bad` (the reason) and returns "".
std::string Strftime(int64_t seconds, const std::string& fmt, std::string* bad) {
  Civil c = ToCivil(seconds);
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i == fmt.size()) {
      *bad = "the strftime format ends with a lone '%'";
      return "";
    }
    switch (fmt[i]) {
      case 'Y': out += Pad(c.year, 4); break;
      case 'y': out += Pad(c.year % 100, 2); break;
      case 'm': out += Pad(c.month, 2); break;
      case 'd': out += Pad(c.day, 2); break;
      case 'e': out += Pad(c.day, 2, ' '); break;
      case 'H': out += Pad(c.hour, 2); break;
      case 'I': out += Pad(c.hour % 12 == 0 ? 12 : c.hour % 12, 2); break;
      case 'M': out += Pad(c.minute, 2); break;
      case 'S': out += Pad(c.second, 2); break;
      case 'p': out += c.hour < 12 ? "AM" : "PM"; break;
      case 'j': out += Pad(c.yday, 3); break;
      case 'a': out += std::string(kDays[c.weekday]).substr(0, 3); break;
      case 'A': out += kDays[c.weekday]; break;
      case 'b': out += std::string(kMonths[c.month - 1]).substr(0, 3); break;
      case 'B': out += kMonths[c.month - 1]; break;
      case 'w': out += std::to_string((c.weekday + 1) % 7); break;
      case 'f': out += "000000"; break;
      case 'F': out += Pad(c.year, 4) + "-" + Pad(c.month, 2) + "-" + Pad(c.day, 2); break;
      case 'T': out += Pad(c.hour, 2) + ":" + Pad(c.minute, 2) + ":" + Pad(c.second, 2); break;
      case '%': out += '%'; break;
      default:
        *bad = std::string("strftime directive %") + fmt[i] +
               " is not supported (use %Y %y %m %d %e %H %I %M %S %p %j %a %A %b %B %w %f %F %T %%)";
        return "";
    }
  }
  return out;
}

// "YYYY-MM-DD HH:MM:SS" -> seconds since 1970 (naive).
std::optional<int64_t> ParseLocal(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') return std::nullopt;
  auto num = [&](size_t at, size_t n, int* out) {
    auto [p, ec] = std::from_chars(s.data() + at, s.data() + at + n, *out);
    return ec == std::errc() && p == s.data() + at + n;
  };
  if (!num(0, 4, &y) || !num(5, 2, &mo) || !num(8, 2, &d) || !num(11, 2, &h) || !num(14, 2, &mi) ||
      !num(17, 2, &se)) {
    return std::nullopt;
  }
  date::year_month_day ymd{date::year{y}, date::month(static_cast<unsigned>(mo)), date::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 59) return std::nullopt;
  return date::sys_seconds{date::sys_days{ymd}}.time_since_epoch().count() + h * 3600 + mi * 60 + se;
}

struct Token {
  enum class Kind { kEnd, kName, kNumber, kText, kPunct };
  Kind kind = Kind::kEnd;
  std::string text;
  size_t at = 0;  // 1-based character position
};

class Evaluator {
 public:
  Evaluator(const std::string& field, std::string_view src, const VariableLookup& lookup)
      : field_(field), src_(src), lookup_(lookup) {}

  Result<Value> Run() {
    if (src_.size() > kMaxExpressionLength) {
      return errors::Invalid(field_, "an expression is longer than " + std::to_string(kMaxExpressionLength) +
                                         " characters");
    }
    QUADER_RETURN_IF_ERROR(Next());
    QUADER_ASSIGN_OR_RETURN(Value v, Expr(0));
    if (tok_.kind != Token::Kind::kEnd) return Error("unexpected " + Quoted(tok_.text));
    return v;
  }

 private:
  Status Error(const std::string& why) const {
    return errors::Invalid(field_, "{{ " + std::string(src_) + " }}: " + why);
  }

  Status Next() {
    while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
    tok_ = Token{};
    tok_.at = pos_ + 1;
    if (pos_ == src_.size()) return Status::Ok();
    char c = src_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t b = pos_;
      while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
      tok_ = {Token::Kind::kName, std::string(src_.substr(b, pos_ - b)), b + 1};
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t b = pos_;
      while (pos_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '.')) ++pos_;
      tok_ = {Token::Kind::kNumber, std::string(src_.substr(b, pos_ - b)), b + 1};
    } else if (c == '\'' || c == '"') {
      return LexText(c);
    } else if (c == '(' || c == ')' || c == '.' || c == ',' || c == '=' || c == '+' || c == '-') {
      tok_ = {Token::Kind::kPunct, std::string(1, c), pos_ + 1};
      ++pos_;
    } else {
      return Error("unexpected character " + Quoted(std::string(1, c)) + " at " + std::to_string(pos_ + 1));
    }
    return Status::Ok();
  }

  Status LexText(char quote) {
    size_t b = pos_++;
    std::string text;
    while (pos_ < src_.size() && src_[pos_] != quote) {
      char c = src_[pos_++];
      if (c == '\\' && pos_ < src_.size()) {
        char e = src_[pos_++];
        if (e == 'n') text += '\n';
        else if (e == 't') text += '\t';
        else if (e == '\\' || e == '\'' || e == '"') text += e;
        else text += std::string{'\\', e};
      } else {
        text += c;
      }
    }
    if (pos_ == src_.size()) return Error("unclosed text starting at " + std::to_string(b + 1));
    ++pos_;
    tok_ = {Token::Kind::kText, std::move(text), b + 1};
    return Status::Ok();
  }

  bool IsPunct(const char* p) const { return tok_.kind == Token::Kind::kPunct && tok_.text == p; }

  Result<Value> Expr(int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    QUADER_ASSIGN_OR_RETURN(Value left, Unary(depth + 1));
    while (IsPunct("+") || IsPunct("-")) {
      bool plus = tok_.text == "+";
      QUADER_RETURN_IF_ERROR(Next());
      QUADER_ASSIGN_OR_RETURN(Value right, Unary(depth + 1));
      QUADER_ASSIGN_OR_RETURN(left, Arith(left, right, plus));
    }
    return left;
  }

  Result<Value> Unary(int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    if (IsPunct("-")) {
      QUADER_RETURN_IF_ERROR(Next());
      QUADER_ASSIGN_OR_RETURN(Value v, Unary(depth + 1));
      if (v.kind == Value::Kind::kNumber) return Value::Number(-v.number, v.integral);
      if (v.kind == Value::Kind::kTimeDelta) return Value::Time(v.kind, -v.seconds);
      return Error("cannot negate " + std::string(KindName(v.kind)));
    }
    return Postfix(depth + 1);
  }

  Result<Value> Arith(const Value& a, const Value& b, bool plus) {
    using K = Value::Kind;
    auto time = [&](K kind, int64_t s) -> Result<Value> {
      if (kind != K::kTimeDelta && (s < MinSeconds() || s > MaxSeconds())) return Error("the date is out of range");
      if (kind == K::kDate) s -= ((s % 86400) + 86400) % 86400;
      return Value::Time(kind, s);
    };
    if (a.kind == K::kNumber && b.kind == K::kNumber) {
      return Value::Number(plus ? a.number + b.number : a.number - b.number, a.integral && b.integral);
    }
    if (plus && a.kind == K::kText && b.kind == K::kText) return Value::Text(a.text + b.text);
    if ((a.kind == K::kDateTime || a.kind == K::kDate || a.kind == K::kTimeDelta) && b.kind == K::kTimeDelta) {
      return time(a.kind, plus ? a.seconds + b.seconds : a.seconds - b.seconds);
    }
    if (plus && a.kind == K::kTimeDelta && (b.kind == K::kDateTime || b.kind == K::kDate)) {
      return time(b.kind, a.seconds + b.seconds);
    }
    if (!plus && a.kind == b.kind && (a.kind == K::kDateTime || a.kind == K::kDate)) {
      return Value::Time(K::kTimeDelta, a.seconds - b.seconds);
    }
    return Error(std::string("cannot ") + (plus ? "add " : "subtract ") + KindName(b.kind) + (plus ? " to " : " from ") +
                 KindName(a.kind));
  }

  struct Arg {
    std::string keyword;  // "" for positional
    Value value;
  };

  Result<std::vector<Arg>> Args(int depth) {
    std::vector<Arg> args;
    QUADER_RETURN_IF_ERROR(Next());  // '('
    while (!IsPunct(")")) {
      if (tok_.kind == Token::Kind::kEnd) return Error("missing \")\"");
      Arg a;
      if (tok_.kind == Token::Kind::kName) {
        // NAME '=' expr, or an expression starting with a name.
        size_t save_pos = pos_;
        Token save = tok_;
        QUADER_RETURN_IF_ERROR(Next());
        if (IsPunct("=")) {
          a.keyword = save.text;
          QUADER_RETURN_IF_ERROR(Next());
        } else {
          pos_ = save_pos;
          tok_ = save;
        }
      }
      QUADER_ASSIGN_OR_RETURN(a.value, Expr(depth + 1));
      args.push_back(std::move(a));
      if (IsPunct(",")) {
        QUADER_RETURN_IF_ERROR(Next());
      } else if (!IsPunct(")")) {
        return Error(tok_.kind == Token::Kind::kEnd ? "missing \")\"" : "unexpected " + Quoted(tok_.text));
      }
    }
    QUADER_RETURN_IF_ERROR(Next());  // ')'
    return args;
  }

  Result<Value> Postfix(int depth) {
    std::optional<std::string> path;  // a dotted name not yet resolved
    Value v;
    if (tok_.kind == Token::Kind::kName) {
      path = tok_.text;
      QUADER_RETURN_IF_ERROR(Next());
      while (IsPunct(".")) {
        QUADER_RETURN_IF_ERROR(Next());
        if (tok_.kind != Token::Kind::kName) return Error("a name must follow \".\"");
        *path += "." + tok_.text;
        QUADER_RETURN_IF_ERROR(Next());
      }
      if (IsPunct("(")) {
        QUADER_ASSIGN_OR_RETURN(std::vector<Arg> args, Args(depth));
        QUADER_ASSIGN_OR_RETURN(v, CallFunction(*path, args));
      } else {
        QUADER_ASSIGN_OR_RETURN(v, Variable(*path));
      }
    } else {
      QUADER_ASSIGN_OR_RETURN(v, Atom(depth));
    }
    while (IsPunct(".")) {
      QUADER_RETURN_IF_ERROR(Next());
      if (tok_.kind != Token::Kind::kName) return Error("a name must follow \".\"");
      std::string member = tok_.text;
      QUADER_RETURN_IF_ERROR(Next());
      std::vector<Arg> args;
      bool call = IsPunct("(");
      if (call) {
        QUADER_ASSIGN_OR_RETURN(args, Args(depth));
      }
      QUADER_ASSIGN_OR_RETURN(v, Member(v, member, call, args));
    }
    if (IsPunct("(")) return Error("only the functions and methods listed in the docs can be called");
    return v;
  }

  Result<Value> Atom(int depth) {
    if (tok_.kind == Token::Kind::kNumber) {
      std::string t = tok_.text;
      QUADER_RETURN_IF_ERROR(Next());
      char* end = nullptr;
      double d = std::strtod(t.c_str(), &end);
      if (end != t.c_str() + t.size() || !std::isfinite(d)) return Error(Quoted(t) + " is not a number");
      return Value::Number(d, t.find('.') == std::string::npos);
    }
    if (tok_.kind == Token::Kind::kText) {
      std::string t = tok_.text;
      QUADER_RETURN_IF_ERROR(Next());
      return Value::Text(std::move(t));
    }
    if (IsPunct("(")) {
      QUADER_RETURN_IF_ERROR(Next());
      QUADER_ASSIGN_OR_RETURN(Value v, Expr(depth + 1));
      if (!IsPunct(")")) return Error("missing \")\"");
      QUADER_RETURN_IF_ERROR(Next());
      return v;
    }
    if (tok_.kind == Token::Kind::kEnd) return Error("the expression ends too early");
    return Error("unexpected " + Quoted(tok_.text));
  }

  Result<Value> Variable(const std::string& path) {
    if (path.find('.') != std::string::npos) {
      std::string root = path.substr(0, path.find('.'));
      if (root != "datetime") return Error(Quoted(root) + " is not available in expressions (" + kSupported + ")");
      return Error(Quoted(path) + " is not supported (" + kSupported + ")");
    }
    if (path == "datetime") return Error("\"datetime\" is a module; use datetime.datetime.now()");
    std::optional<std::string> value = lookup_(path);
    if (!value) return Error("unknown variable " + Quoted(path));
    return Value::Text(*value);
  }

  Result<Value> Now() {
    std::optional<std::string> when = lookup_("execution_date");
    if (!when) return Error("unknown variable \"execution_date\"");
    std::optional<int64_t> s = ParseLocal(*when);
    if (!s) return Error("execution_date " + Quoted(*when) + " is not \"YYYY-MM-DD HH:MM:SS\"");
    return Value::Time(Value::Kind::kDateTime, *s);
  }

  Result<Value> CallFunction(const std::string& path, const std::vector<Arg>& args) {
    if (path == "datetime.datetime.now" || path == "datetime.datetime.today" || path == "datetime.date.today") {
      if (!args.empty()) return Error(path + "() takes no arguments (the time zone is the run's)");
      QUADER_ASSIGN_OR_RETURN(Value v, Now());
      if (path == "datetime.date.today") return Arith(Value::Time(Value::Kind::kDate, v.seconds), Value::Time(Value::Kind::kTimeDelta, 0), true);
      return v;
    }
    if (path == "datetime.timedelta") return TimeDelta(args);
    std::string root = path.substr(0, path.find('.'));
    if (root != "datetime") return Error(Quoted(root) + " is not available in expressions (" + kSupported + ")");
    return Error(Quoted(path + "()") + " is not supported (" + kSupported + ")");
  }

  Result<Value> TimeDelta(const std::vector<Arg>& args) {
    static const std::pair<const char*, double> kUnits[] = {
        {"days", 86400}, {"seconds", 1}, {"microseconds", 1e-6}, {"milliseconds", 1e-3},
        {"minutes", 60}, {"hours", 3600}, {"weeks", 7 * 86400}};
    double total = 0;
    bool keywords = false;
    for (size_t i = 0; i < args.size(); ++i) {
      const Arg& a = args[i];
      if (a.value.kind != Value::Kind::kNumber) {
        return Error("datetime.timedelta takes numbers, not " + std::string(KindName(a.value.kind)));
      }
      double unit = 0;
      if (a.keyword.empty()) {
        if (keywords) return Error("datetime.timedelta: a positional argument after a keyword argument");
        if (i >= std::size(kUnits)) return Error("datetime.timedelta takes at most 7 arguments");
        unit = kUnits[i].second;
      } else {
        keywords = true;
        for (const auto& [name, u] : kUnits) {
          if (a.keyword == name) unit = u;
        }
        if (unit == 0) return Error("datetime.timedelta has no argument " + Quoted(a.keyword));
      }
      total += a.value.number * unit;
    }
    if (!std::isfinite(total) || std::fabs(total) > kMaxSeconds) return Error("the timedelta is too long");
    return Value::Time(Value::Kind::kTimeDelta, static_cast<int64_t>(std::trunc(total)));
  }

  Result<Value> Member(const Value& v, const std::string& member, bool call, const std::vector<Arg>& args) {
    using K = Value::Kind;
    bool when = v.kind == K::kDateTime || v.kind == K::kDate;
    if (when && call && member == "strftime") {
      if (args.size() != 1 || !args[0].keyword.empty() || args[0].value.kind != K::kText) {
        return Error("strftime takes one format text, e.g. strftime('%Y-%m-%d')");
      }
      std::string bad;
      std::string text = Strftime(v.seconds, args[0].value.text, &bad);
      if (!bad.empty()) return Error(bad);
      return Value::Text(std::move(text));
    }
    if (when && call && args.empty() && member == "date") return Arith(Value::Time(K::kDate, v.seconds), Value::Time(K::kTimeDelta, 0), true);
    if (when && call && args.empty() && member == "isoformat") {
      std::string t = ToText(v);
      if (v.kind == K::kDateTime) t[10] = 'T';
      return Value::Text(t);
    }
    if (when && call && args.empty() && member == "weekday") return Value::Number(static_cast<double>(ToCivil(v.seconds).weekday), true);
    if (when && !call) {
      Civil c = ToCivil(v.seconds);
      const std::pair<const char*, int64_t> fields[] = {{"year", c.year}, {"month", c.month}, {"day", c.day},
                                                        {"hour", c.hour}, {"minute", c.minute}, {"second", c.second}};
      for (const auto& [name, value] : fields) {
        if (member == name) return Value::Number(static_cast<double>(value), true);
      }
    }
    if (v.kind == K::kTimeDelta && !call && (member == "days" || member == "seconds")) {
      int64_t days = v.seconds >= 0 ? v.seconds / 86400 : -((-v.seconds + 86399) / 86400);
      return Value::Number(static_cast<double>(member == "days" ? days : v.seconds - days * 86400), true);
    }
    if (v.kind == K::kTimeDelta && call && args.empty() && member == "total_seconds") {
      return Value::Number(static_cast<double>(v.seconds), false);
    }
    return Error(std::string(KindName(v.kind)) + " has no " + (call ? "method " : "attribute ") + Quoted(member) +
                 " here (" + kSupported + ")");
  }

  const std::string& field_;
  std::string_view src_;
  const VariableLookup& lookup_;
  size_t pos_ = 0;
  Token tok_;
};

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

bool IsPlainVariable(std::string_view text) {
  text = Trim(text);
  if (text.empty() || !(std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_')) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

Result<std::string> EvaluateExpression(const std::string& field, std::string_view expr, const VariableLookup& lookup) {
  Evaluator e(field, Trim(expr), lookup);
  QUADER_ASSIGN_OR_RETURN(Value v, e.Run());
  return ToText(v);
}

Result<std::vector<std::string>> ExpressionVariables(const std::string& field, std::string_view expr) {
  std::vector<std::string> names;
  // Every variable is known here, with a value of the right form; only the
  // names read are of interest.
  VariableLookup record = [&names](const std::string& name) -> std::optional<std::string> {
    names.push_back(name);
    if (name == "execution_date") return std::string("2000-01-01 00:00:00");
    return std::string();
  };
  QUADER_RETURN_IF_ERROR(EvaluateExpression(field, expr, record).status());
  return names;
}

}  // namespace quader::pipeline
