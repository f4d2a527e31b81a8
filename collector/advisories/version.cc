#include "collector/advisories/version.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"

namespace auscult::collector::advisories {
namespace {

struct Token {
  bool numeric = false;
  std::string text;  // numeric: without leading zeros ("" is 0); else lower-case letters
};

struct Parsed {
  bool ok = false;
  std::string tag;  // letters glued to the first number (U61, BT02): a region or line, not an order
  std::vector<Token> main;
  std::vector<Token> build;  // after "build" or "service pack": compared only when main is equal
  bool has_build = false;
  bool wildcard = false;           // trailing x components (12.x): the parts before are a prefix
  bool glued_x = false;            // an x glued to a number (C.0x): not a wildcard this can read
  std::vector<std::string> words;  // words of more than one letter run that are not known qualifiers
};

bool IsSeparator(char c) { return c == '.' || c == '_' || c == '-' || c == ' ' || c == '/' || c == ','; }

// A suffix after '-' that is a commit hash or a build id (1.4.2.0-9d9eff4, 5.17.1-754993421): not
// part of the order.
std::string_view DropHashSuffix(std::string_view v) {
  const size_t dash = v.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || v.substr(0, dash).find('.') == std::string_view::npos) return v;
  const std::string_view tail = v.substr(dash + 1);
  const bool alnum = !tail.empty() && std::all_of(tail.begin(), tail.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
  });
  const bool letters = std::any_of(tail.begin(), tail.end(), [](char c) { return c >= 'a' && c <= 'f'; });
  const bool digits =
      std::any_of(tail.begin(), tail.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (alnum && ((letters && digits && tail.size() >= 6) || (!letters && tail.size() >= 7))) return v.substr(0, dash);
  return v;
}

Parsed Parse(std::string_view input) {
  Parsed p;
  std::string s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(AsAbsl(input)));
  std::string_view v = s;
  for (std::string_view word : {"version", "release", "ver", "rev"}) {
    if (v.size() > word.size() && v.substr(0, word.size()) == word &&
        (v[word.size()] == ' ' || v[word.size()] == '.' || v[word.size()] == ':' ||
         std::isdigit(static_cast<unsigned char>(v[word.size()])))) {
      v.remove_prefix(word.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '.' || v.front() == ':')) v.remove_prefix(1);
      break;
    }
  }
  if (v.size() > 1 && v[0] == 'v' && std::isdigit(static_cast<unsigned char>(v[1]))) v.remove_prefix(1);
  v = DropHashSuffix(v);
  if (v.empty()) return p;

  // Runs of digits and runs of letters; `glued[i]` when token i follows token i-1 without a separator.
  std::vector<Token> tokens;
  std::vector<bool> glued;
  bool after_separator = true;
  for (size_t i = 0; i < v.size();) {
    const char c = v[i];
    if (IsSeparator(c)) {
      after_separator = true;
      ++i;
      continue;
    }
    const bool digit = std::isdigit(static_cast<unsigned char>(c));
    const bool letter = c >= 'a' && c <= 'z';
    if (!digit && !letter) return p;  // anything else is not a version this reads
    size_t j = i;
    while (j < v.size() && (digit ? std::isdigit(static_cast<unsigned char>(v[j])) : (v[j] >= 'a' && v[j] <= 'z'))) ++j;
    Token t;
    t.numeric = digit;
    t.text = std::string(v.substr(i, j - i));
    if (digit) {
      const size_t nz = t.text.find_first_not_of('0');
      t.text = nz == std::string::npos ? "" : t.text.substr(nz);
    }
    glued.push_back(!after_separator);
    tokens.push_back(std::move(t));
    after_separator = false;
    i = j;
  }
  // Build or service-pack qualifiers: what follows is a secondary key.
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].numeric) continue;
    size_t skip = 0;
    if (tokens[i].text == "build") {
      skip = 1;
    } else if (tokens[i].text == "service" && i + 1 < tokens.size() && tokens[i + 1].text == "pack") {
      skip = 2;
    } else if (tokens[i].text == "sp" && i > 0 && !glued[i]) {
      skip = 1;
    }
    if (skip > 0 && i > 0) {
      p.has_build = true;
      p.build.assign(tokens.begin() + static_cast<long>(i + skip), tokens.end());
      tokens.resize(i);
      glued.resize(i);
      break;
    }
  }
  // Trailing standalone x components: a wildcard.
  while (!tokens.empty() && !tokens.back().numeric && tokens.back().text == "x" && !glued.back()) {
    p.wildcard = true;
    tokens.pop_back();
    glued.pop_back();
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!tokens[i].numeric && tokens[i].text == "x" && glued[i]) p.glued_x = true;
    // A word, not a revision letter or a tag (letters glued to digits on either side are fine).
    const bool next_glued = i + 1 < tokens.size() && glued[i + 1];
    if (!tokens[i].numeric && tokens[i].text.size() > 2 && !glued[i] && !next_glued) p.words.push_back(tokens[i].text);
  }
  if (tokens.empty()) return p;
  if (!tokens[0].numeric && tokens.size() > 1 && tokens[1].numeric && glued[1]) {
    p.tag = tokens[0].text;
    tokens.erase(tokens.begin());
  }
  p.main = std::move(tokens);
  p.ok = true;
  return p;
}

int CompareNumbers(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a < b ? -1 : (a > b ? 1 : 0);
}

// Part by part; a missing numeric part is 0, a missing part before a letter part sorts first.
Comparison CompareTokens(const std::vector<Token>& a, const std::vector<Token>& b) {
  Comparison out;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (i >= a.size() || i >= b.size()) {
      const bool a_longer = i < a.size();
      const Token& t = a_longer ? a[i] : b[i];
      if (t.numeric && t.text.empty()) continue;  // a zero part: 1.2 == 1.2.0
      out.prefix = true;
      out.order = a_longer ? Order::kGreater : Order::kLess;
      return out;
    }
    if (a[i].numeric != b[i].numeric) {
      out.order = Order::kIncomparable;
      return out;
    }
    const int c = a[i].numeric ? CompareNumbers(a[i].text, b[i].text) : a[i].text.compare(b[i].text);
    if (c != 0) {
      out.order = c < 0 ? Order::kLess : Order::kGreater;
      return out;
    }
  }
  out.order = Order::kEqual;
  return out;
}

Comparison CompareParsed(const Parsed& a, const Parsed& b) {
  if (!a.ok || !b.ok || a.tag != b.tag) return Comparison{};
  Comparison c = CompareTokens(a.main, b.main);
  if (c.order != Order::kEqual) return c;
  if (a.has_build && b.has_build) {
    const Comparison builds = CompareTokens(a.build, b.build);
    c.order = builds.order;
    c.prefix = c.prefix || builds.prefix;
  } else if (a.has_build != b.has_build) {
    c.prefix = true;  // one names a build, the other does not: equal as far as both go
  }
  return c;
}

// The smallest version above every version that starts with `prefix` (12.2 -> 12.3), or "".
std::string NextAfterPrefix(const Parsed& p) {
  if (p.main.empty() || !p.main.back().numeric) return "";
  std::string out = p.tag;
  for (size_t i = 0; i < p.main.size(); ++i) {
    std::string part = p.main[i].text.empty() ? "0" : p.main[i].text;
    if (i + 1 == p.main.size()) {
      // Increment a decimal string.
      int k = static_cast<int>(part.size()) - 1;
      while (k >= 0 && part[static_cast<size_t>(k)] == '9') part[static_cast<size_t>(k--)] = '0';
      if (k < 0) {
        part.insert(part.begin(), '1');
      } else {
        ++part[static_cast<size_t>(k)];
      }
    }
    if (i > 0) out += '.';
    out += part;
  }
  return out;
}

std::string Prefix(const Parsed& p) {
  std::string out = p.tag;
  for (size_t i = 0; i < p.main.size(); ++i) {
    if (i > 0) out += '.';
    out += p.main[i].numeric && p.main[i].text.empty() ? "0" : p.main[i].text;
  }
  return out;
}

bool HasMonth(std::string_view lower) {
  for (std::string_view m : {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}) {
    for (size_t at = lower.find(m); at != std::string_view::npos; at = lower.find(m, at + 1)) {
      const bool start = at == 0 || !std::isalpha(static_cast<unsigned char>(lower[at - 1]));
      if (start) return true;
    }
  }
  return false;
}

VersionConstraint Unparsed(VersionConstraint c, const char* why) {
  c.kind = VersionConstraint::Kind::kUnparsed;
  c.intervals.clear();
  c.why_unparsed = why;
  return c;
}

}  // namespace

Comparison CompareVersions(std::string_view a, std::string_view b) { return CompareParsed(Parse(a), Parse(b)); }

VersionConstraint ParseVersionConstraint(std::string_view text) {
  VersionConstraint c;
  c.raw = std::string(text);
  std::string lower;
  for (char ch : absl::AsciiStrToLower(absl::StripAsciiWhitespace(AsAbsl(text)))) {
    if (absl::ascii_isspace(static_cast<unsigned char>(ch))) {
      if (!lower.empty() && lower.back() != ' ') lower += ' ';  // runs of white space are one space
    } else {
      lower += ch;
    }
  }
  if (lower.empty()) return Unparsed(c, "empty");
  if (lower == "vers:all/*" || lower == "all" || lower == "all versions" || lower == "*") {
    c.kind = VersionConstraint::Kind::kAll;
    return c;
  }
  if (HasMonth(lower) || lower.find("distributed") != std::string::npos || lower.find("shipped") != std::string::npos ||
      std::count(lower.begin(), lower.end(), '/') >= 2) {
    return Unparsed(c, "date");
  }
  if (lower.find('(') != std::string::npos || lower.find(" with ") != std::string::npos ||
      lower.find(" on ") != std::string::npos) {
    return Unparsed(c, "composite");
  }
  // "2.3.6 and below", "and prior", "and earlier": an upper bound written as a version.
  for (std::string_view phrase : {" and below", " and prior", " and earlier", " and lower"}) {
    if (const size_t at = lower.find(phrase); at != std::string::npos) lower = "<= " + lower.substr(0, at);
  }

  struct Part {
    std::optional<VersionBound> lower, upper;
  };
  std::vector<Part> parts;
  for (absl::string_view piece : absl::StrSplit(lower, '|')) {
    std::string_view p = AsStd(absl::StripAsciiWhitespace(piece));
    if (p.empty()) return Unparsed(c, "free_text");
    std::string op;
    for (std::string_view o : {"<=", ">=", "<", ">", "="}) {
      if (p.substr(0, o.size()) == o) {
        op = std::string(o);
        p.remove_prefix(o.size());
        break;
      }
    }
    p = AsStd(absl::StripAsciiWhitespace(AsAbsl(p)));
    const Parsed v = Parse(p);
    if (!v.ok || v.glued_x || !v.words.empty()) return Unparsed(c, "free_text");
    if (p.find('<') != std::string_view::npos || p.find('>') != std::string_view::npos) return Unparsed(c, "free_text");
    Part part;
    if (v.wildcard) {
      // 12.x is [12, 13); "<= 12.2.x.x" is below 12.3; "< 3.x" below 3; ">= 3.x" from 3.
      const std::string next = NextAfterPrefix(v);
      if (next.empty()) return Unparsed(c, "free_text");
      const std::string prefix = Prefix(v);
      if (op.empty() || op == "=") {
        part.lower = VersionBound{prefix, true};
        part.upper = VersionBound{next, false};
      } else if (op == "<=" || op == ">") {
        (op == "<=" ? part.upper : part.lower) = VersionBound{next, op == ">"};
      } else {
        (op == "<" ? part.upper : part.lower) = VersionBound{prefix, op == ">="};
      }
    } else {
      const std::string version(p);
      if (op.empty() || op == "=") {
        part.lower = part.upper = VersionBound{version, true};
      } else if (op == "<=" || op == "<") {
        part.upper = VersionBound{version, op == "<="};
      } else {
        part.lower = VersionBound{version, op == ">="};
      }
    }
    parts.push_back(std::move(part));
  }
  c.kind = VersionConstraint::Kind::kSet;
  // ">= a | <= b": one interval (how the advisories write a range); anything else is a union.
  if (parts.size() == 2 && parts[0].lower && !parts[0].upper && parts[1].upper && !parts[1].lower) {
    c.intervals.push_back(VersionInterval{parts[0].lower, parts[1].upper});
    return c;
  }
  for (Part& p : parts) c.intervals.push_back(VersionInterval{std::move(p.lower), std::move(p.upper)});
  return c;
}

VersionVerdict MatchVersion(const VersionConstraint& constraint, std::string_view observed) {
  VersionVerdict out;
  if (constraint.kind == VersionConstraint::Kind::kAll) {
    out.reason = "all";
    return out;
  }
  if (constraint.kind == VersionConstraint::Kind::kUnparsed) {
    out.reason = "unparsed:" + constraint.why_unparsed;
    return out;
  }
  const Parsed v = Parse(observed);
  if (absl::StripAsciiWhitespace(AsAbsl(observed)).empty() || !v.ok) {
    out.reason = "no_version";
    return out;
  }
  bool incomparable = false, prefix = false, tag_matched = false, tag_mismatched = false;
  for (const VersionInterval& i : constraint.intervals) {
    bool inside = true, unsure_prefix = false, broken = false;
    for (const auto* bound : {&i.lower, &i.upper}) {
      if (!bound->has_value()) continue;
      const Parsed b = Parse((*bound)->version);
      if (b.ok && b.tag != v.tag) {
        tag_mismatched = true;
        broken = true;
        break;
      }
      const Comparison cmp = CompareParsed(v, b);
      if (cmp.order == Order::kIncomparable) {
        broken = true;
        break;
      }
      const bool is_lower = bound == &i.lower;
      const bool ok = cmp.order == Order::kEqual
                          ? (*bound)->inclusive
                          : (is_lower ? cmp.order == Order::kGreater : cmp.order == Order::kLess);
      if (!ok) {
        inside = false;
        // Beyond an inclusive upper bound only by parts the bound does not have (9.33.1 against
        // "<= 9.33"): the vendor may mean the whole line.
        if (!is_lower && cmp.prefix && (*bound)->inclusive && cmp.order == Order::kGreater) unsure_prefix = true;
        if (!is_lower && cmp.prefix && cmp.order == Order::kEqual) unsure_prefix = true;
      }
    }
    if (broken) {
      if (!tag_mismatched) incomparable = true;
      continue;
    }
    tag_matched = true;
    if (inside) {
      out.match = VersionMatch::kInside;
      return out;
    }
    prefix = prefix || unsure_prefix;
  }
  if (incomparable || (tag_mismatched && !tag_matched)) {
    out.reason = "incomparable";
  } else if (prefix) {
    out.reason = "prefix";
  } else {
    out.match = VersionMatch::kOutside;
  }
  return out;
}

}  // namespace auscult::collector::advisories
