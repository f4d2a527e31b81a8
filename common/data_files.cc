#include "common/data_files.h"

#include <filesystem>

namespace auscult {

std::string ShippedDataFile(std::string_view name, std::string_view source_dir) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "auscult" / name;
    if (std::filesystem::exists(installed, ec)) return installed.string();
  }
  const std::filesystem::path source = std::filesystem::path(source_dir) / name;
  if (std::filesystem::exists(source, ec)) return source.string();
  return "";
}

}  // namespace auscult
