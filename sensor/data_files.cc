#include "sensor/data_files.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace auscult::sensor {

std::string ShippedDataFile(std::string_view name) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "auscult" / name;
    if (std::filesystem::exists(installed, ec)) return installed.string();
  }
  const std::filesystem::path source = std::filesystem::path(AUSCULT_SENSOR_DATA_DIR) / name;
  if (std::filesystem::exists(source, ec)) return source.string();
  return "";
}

absl::StatusOr<std::string> ReadDataFile(const std::string& path, size_t max_bytes, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", AsAbsl(what), " ", path));
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > max_bytes)
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than ", max_bytes, " bytes"));
  return text;
}

}  // namespace auscult::sensor
