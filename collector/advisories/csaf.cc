#include "collector/advisories/csaf.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace auscult::collector::advisories {
namespace {

using google::protobuf::Value;

// Reads one document, collecting the first error with its JSON path.
class Reader {
 public:
  explicit Reader(std::string_view name) : name_(name) {}

  absl::Status error() const { return error_; }
  bool failed() const { return !error_.ok(); }

  void Fail(const std::string& path, std::string_view why) {
    if (error_.ok()) {
      error_ = absl::InvalidArgumentError(
          absl::StrCat(name_, ": ", path.empty() ? "the top level" : path, ": ", AsAbsl(why)));
    }
  }

  // The member `key` of an object, or null (and, when `required`, an error).
  const Value* Member(const Value& object, const std::string& path, const std::string& key, bool required) {
    if (object.kind_case() != Value::kStructValue) {
      Fail(path, "not an object");
      return nullptr;
    }
    const auto& fields = object.struct_value().fields();
    const auto it = fields.find(key);
    if (it == fields.end()) {
      if (required) Fail(Join(path, key), "missing");
      return nullptr;
    }
    return &it->second;
  }

  std::string String(const Value& object, const std::string& path, const std::string& key, bool required) {
    const Value* v = Member(object, path, key, required);
    if (v == nullptr) return "";
    if (v->kind_case() != Value::kStringValue) {
      Fail(Join(path, key), "not a string");
      return "";
    }
    return v->string_value();
  }

  // An array member (absent: empty, unless required).
  const google::protobuf::ListValue* Array(const Value& object, const std::string& path, const std::string& key,
                                           bool required) {
    static const google::protobuf::ListValue kEmpty;
    const Value* v = Member(object, path, key, required);
    if (v == nullptr) return &kEmpty;
    if (v->kind_case() != Value::kListValue) {
      Fail(Join(path, key), "not an array");
      return &kEmpty;
    }
    return &v->list_value();
  }

  std::vector<std::string> Strings(const Value& object, const std::string& path, const std::string& key) {
    std::vector<std::string> out;
    const auto* list = Array(object, path, key, false);
    for (int i = 0; i < list->values_size(); ++i) {
      if (list->values(i).kind_case() != Value::kStringValue) {
        Fail(absl::StrCat(Join(path, key), "[", i, "]"), "not a string");
        return out;
      }
      out.push_back(list->values(i).string_value());
    }
    return out;
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : absl::StrCat(path, ".", key);
  }

 private:
  std::string name_;
  absl::Status error_;
};

struct Context {
  std::string vendor, product_name, version_text;
  bool version_is_range = false;
};

void Walk(Reader& r, const Value& branch, const std::string& path, Context context, int depth, Advisory& out) {
  if (r.failed()) return;
  // The JSON reader allows less than this already; kept should that reader change.
  if (depth > 30) return r.Fail(path, "branches nested deeper than 30");
  const std::string category = r.String(branch, path, "category", true);
  const std::string name = r.String(branch, path, "name", true);
  if (category == "vendor") {
    context.vendor = name;
  } else if (category == "product_name" || category == "product_family") {
    // A family names the product until a product_name says more.
    if (category == "product_name" || context.product_name.empty()) context.product_name = name;
  } else if (category == "product_version" || category == "product_version_range") {
    context.version_text = name;
    context.version_is_range = category == "product_version_range";
  }
  if (const Value* product = r.Member(branch, path, "product", false)) {
    if (out.products.size() >= kMaxCsafProducts) return r.Fail(path, "more products than an advisory may have");
    const std::string at = Reader::Join(path, "product");
    Product p;
    p.product_id = r.String(*product, at, "product_id", true);
    p.label = r.String(*product, at, "name", true);
    p.vendor = context.vendor;
    p.product_name = context.product_name;
    p.version_text = context.version_text;
    p.version_is_range = context.version_is_range;
    if (p.version_text.empty()) {
      p.version.kind = VersionConstraint::Kind::kAll;  // the tree names no version: every one
    } else {
      p.version = ParseVersionConstraint(p.version_text);
    }
    if (const Value* helper = r.Member(*product, at, "product_identification_helper", false)) {
      const std::string h = Reader::Join(at, "product_identification_helper");
      p.cpe = r.String(*helper, h, "cpe", false);
      p.model_numbers = r.Strings(*helper, h, "model_numbers");
    }
    if (p.product_id.empty() && !r.failed()) r.Fail(Reader::Join(at, "product_id"), "empty");
    out.products.push_back(std::move(p));
  }
  const auto* children = r.Array(branch, path, "branches", false);
  for (int i = 0; i < children->values_size() && !r.failed(); ++i) {
    Walk(r, children->values(i), absl::StrCat(path, ".branches[", i, "]"), context, depth + 1, out);
  }
}

}  // namespace

absl::StatusOr<Advisory> ParseCsaf(std::string_view json, std::string_view name) {
  const std::string file(name);
  if (json.size() > kMaxCsafBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": ", json.size(), " bytes, more than an advisory may have (", kMaxCsafBytes, ")"));
  }
  Value doc;
  if (const auto s = google::protobuf::util::JsonStringToMessage(std::string(json), &doc); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": not JSON, or nested deeper than the JSON reader allows: ", std::string(s.message())));
  }
  Reader r(name);
  Advisory a;
  const Value* document = r.Member(doc, "", "document", true);
  if (document != nullptr) {
    const std::string csaf_version = r.String(*document, "document", "csaf_version", true);
    if (!r.failed() && csaf_version != "2.0") {
      r.Fail("document.csaf_version", absl::StrCat("'", csaf_version, "', not 2.0"));
    }
    a.title = r.String(*document, "document", "title", true);
    if (const Value* publisher = r.Member(*document, "document", "publisher", true)) {
      a.publisher = r.String(*publisher, "document.publisher", "name", true);
    }
    if (const Value* tracking = r.Member(*document, "document", "tracking", true)) {
      a.tracking_id = r.String(*tracking, "document.tracking", "id", true);
      a.version = r.String(*tracking, "document.tracking", "version", true);
      a.initial_release = r.String(*tracking, "document.tracking", "initial_release_date", true);
      a.current_release = r.String(*tracking, "document.tracking", "current_release_date", true);
      if (!r.failed() && a.tracking_id.empty()) r.Fail("document.tracking.id", "empty");
    }
  }
  if (r.failed()) return r.error();
  // product_tree may be absent (an advisory about no product), as may vulnerabilities.
  if (const Value* tree = r.Member(doc, "", "product_tree", false)) {
    const auto* branches = r.Array(*tree, "product_tree", "branches", false);
    for (int i = 0; i < branches->values_size() && !r.failed(); ++i) {
      Walk(r, branches->values(i), absl::StrCat("product_tree.branches[", i, "]"), Context{}, 0, a);
    }
    const auto* full = r.Array(*tree, "product_tree", "full_product_names", false);
    for (int i = 0; i < full->values_size() && !r.failed(); ++i) {
      const std::string at = absl::StrCat("product_tree.full_product_names[", i, "]");
      Product p;
      p.product_id = r.String(full->values(i), at, "product_id", true);
      p.label = r.String(full->values(i), at, "name", true);
      p.version.kind = VersionConstraint::Kind::kAll;
      a.products.push_back(std::move(p));
    }
  }
  if (r.failed()) return r.error();
  std::set<std::string> ids;
  for (const Product& p : a.products) {
    if (!ids.insert(p.product_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": product_tree: product_id ", p.product_id, " is given to two products"));
    }
  }
  auto known = [&](const std::vector<std::string>& refs, const std::string& at) {
    for (const std::string& id : refs) {
      if (!ids.contains(id)) r.Fail(at, absl::StrCat(id, " is no product of the product tree"));
    }
  };

  const auto* vulnerabilities = r.Array(doc, "", "vulnerabilities", false);
  for (int i = 0; i < vulnerabilities->values_size() && !r.failed(); ++i) {
    const Value& v = vulnerabilities->values(i);
    const std::string at = absl::StrCat("vulnerabilities[", i, "]");
    Vulnerability out;
    out.cve = r.String(v, at, "cve", false);
    if (const Value* cwe = r.Member(v, at, "cwe", false)) {
      out.cwe_id = r.String(*cwe, at + ".cwe", "id", true);
      out.cwe_name = r.String(*cwe, at + ".cwe", "name", false);
    }
    const auto* scores = r.Array(v, at, "scores", false);
    for (int j = 0; j < scores->values_size() && !r.failed(); ++j) {
      const Value& s = scores->values(j);
      const std::string sat = absl::StrCat(at, ".scores[", j, "]");
      Score score;
      score.product_ids = r.Strings(s, sat, "products");
      known(score.product_ids, sat + ".products");
      for (const char* key : {"cvss_v4", "cvss_v3", "cvss_v2"}) {
        const Value* cvss = r.Member(s, sat, key, false);
        if (cvss == nullptr) continue;
        const std::string cat = absl::StrCat(sat, ".", key);
        score.cvss_version = r.String(*cvss, cat, "version", true);
        score.vector = r.String(*cvss, cat, "vectorString", true);
        score.severity = r.String(*cvss, cat, "baseSeverity", false);
        const Value* base = r.Member(*cvss, cat, "baseScore", true);
        if (base != nullptr && base->kind_case() == Value::kNumberValue && base->number_value() >= 0 &&
            base->number_value() <= 10) {
          score.base_score = base->number_value();
        } else if (base != nullptr) {
          r.Fail(cat + ".baseScore", "not a number from 0 to 10");
        }
        break;  // the newest CVSS version given
      }
      if (!score.vector.empty()) out.scores.push_back(std::move(score));
    }
    if (const Value* status = r.Member(v, at, "product_status", false)) {
      if (status->kind_case() != Value::kStructValue) {
        r.Fail(at + ".product_status", "not an object");
      } else {
        for (const auto& [key, unused] : status->struct_value().fields()) {
          std::vector<std::string> refs = r.Strings(*status, at + ".product_status", key);
          known(refs, absl::StrCat(at, ".product_status.", key));
          out.product_status[key] = std::move(refs);
        }
      }
    }
    const auto* remediations = r.Array(v, at, "remediations", false);
    for (int j = 0; j < remediations->values_size() && !r.failed(); ++j) {
      const Value& m = remediations->values(j);
      const std::string mat = absl::StrCat(at, ".remediations[", j, "]");
      Remediation rem;
      rem.category = r.String(m, mat, "category", true);
      rem.details = r.String(m, mat, "details", true);
      rem.url = r.String(m, mat, "url", false);
      rem.product_ids = r.Strings(m, mat, "product_ids");
      known(rem.product_ids, mat + ".product_ids");
      out.remediations.push_back(std::move(rem));
    }
    a.vulnerabilities.push_back(std::move(out));
  }
  if (r.failed()) return r.error();
  return a;
}

}  // namespace auscult::collector::advisories
