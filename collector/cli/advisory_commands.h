#ifndef AUSCULT_COLLECTOR_CLI_ADVISORY_COMMANDS_H_
#define AUSCULT_COLLECTOR_CLI_ADVISORY_COMMANDS_H_

#include <string>
#include <vector>

#include "auscult/v1/query.grpc.pb.h"
#include "collector/cli/graph_commands.h"
#include "common/json_writer.h"

namespace auscult::cli {

// auscult advisories import PATH...: CSAF 2.0 files, and folders searched for *.json. Exit 1 when a
// file could not be read or was refused (each named with the reason), else 0.
int ImportAdvisories(const QueryContext& q, const std::vector<std::string>& paths);
// auscult advisories list [--matched] [--cve=CVE] [--vendor=TEXT] [--json]
int ListAdvisories(const QueryContext& q);
// auscult advisories show ID [--json]
int ShowAdvisory(const QueryContext& q, const std::string& tracking_id);

// A device's match, for `auscult device ID` (the text lines and the JSON object).
void PrintDeviceAdvisories(const v1::Device& d);
void AdvisoryMatchJson(JsonWriter& j, const v1::AdvisoryMatch& m, bool with_device);

// The files an import reads: each PATH that is a file, and every *.json under each PATH that is a
// folder, sorted. Unreadable paths are returned in `errors`.
std::vector<std::string> AdvisoryFiles(const std::vector<std::string>& paths, std::vector<std::string>* errors);

}  // namespace auscult::cli

#endif  // AUSCULT_COLLECTOR_CLI_ADVISORY_COMMANDS_H_
