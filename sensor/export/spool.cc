#include "sensor/export/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace auscult::sensor {
namespace {

constexpr char kSuffix[] = ".batch";
constexpr char kTempSuffix[] = ".tmp";

std::string Errno(const std::string& what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

// "00000000001764412345-00000000000000000042.batch" -> (epoch, sequence).
bool ParseName(const std::string& name, Spool::Entry* entry) {
  constexpr size_t kDigits = 20;
  if (name.size() != 2 * kDigits + 1 + sizeof(kSuffix) - 1 || name[kDigits] != '-' ||
      name.compare(2 * kDigits + 1, std::string::npos, kSuffix) != 0) {
    return false;
  }
  return absl::SimpleAtoi(name.substr(0, kDigits), &entry->epoch) &&
         absl::SimpleAtoi(name.substr(kDigits + 1, kDigits), &entry->sequence);
}

absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(Errno("cannot write", path));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("--spool_dir: cannot create ", dir, ": ", ec.message()));
    ::chmod(dir.c_str(), 0700);
  } else if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("--spool_dir: ", dir, " is not a folder"));
  }
  const std::string lock_path = dir + "/LOCK";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return absl::InvalidArgumentError("--spool_dir: " + Errno("cannot open", lock_path));
  // Two sensors sending from one spool would send each other's batches under the wrong id, or
  // delete what the other has not yet sent.
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return absl::FailedPreconditionError(
        absl::StrCat("--spool_dir: ", dir, " is in use by another auscult-sensor process (give each its own)"));
  }
  auto spool = std::unique_ptr<Spool>(new Spool(dir, lock_fd));
  for (const auto& item : fs::directory_iterator(dir, ec)) {
    const std::string name = item.path().filename().string();
    Entry entry;
    if (name.ends_with(kTempSuffix)) {
      fs::remove(item.path(), ec);  // a write cut short by a crash: its batch was never sent
    } else if (ParseName(name, &entry)) {
      entry.bytes = static_cast<uint64_t>(item.file_size(ec));
      if (!ec) spool->recovered_.push_back(entry);
    } else if (name != "LOCK") {
      spdlog::warn("spool {}: ignoring {}, which is not a batch", dir, name);
    }
  }
  if (ec) return absl::UnavailableError(absl::StrCat("--spool_dir: cannot list ", dir, ": ", ec.message()));
  std::sort(spool->recovered_.begin(), spool->recovered_.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.epoch, a.sequence) < std::tie(b.epoch, b.sequence);
  });
  return spool;
}

Spool::~Spool() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

std::string Spool::PathOf(const Entry& entry) const {
  return absl::StrFormat("%s/%020u-%020u%s", dir_, entry.epoch, entry.sequence, kSuffix);
}

absl::StatusOr<Spool::Entry> Spool::Write(const v1::ObservationBatch& batch) {
  Entry entry{batch.epoch(), batch.sequence(), 0};
  std::string data;
  if (!batch.SerializeToString(&data)) return absl::InternalError("cannot serialize a batch for the spool");
  entry.bytes = data.size();
  const std::string path = PathOf(entry);
  const std::string temp = path + kTempSuffix;
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(Errno("spool: cannot create", temp));
  absl::Status s = WriteAll(fd, data, temp);
  // Synced before the rename: after a power cut the name never points at a file without its data.
  if (s.ok() && ::fdatasync(fd) != 0) s = absl::UnavailableError(Errno("spool: cannot sync", temp));
  if (::close(fd) != 0 && s.ok()) s = absl::UnavailableError(Errno("spool: cannot close", temp));
  if (s.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    s = absl::UnavailableError(Errno("spool: cannot rename", temp));
  }
  if (!s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  return entry;
}

absl::StatusOr<std::unique_ptr<v1::ObservationBatch>> Spool::Read(const Entry& entry) const {
  const std::string path = PathOf(entry);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(Errno("spool: cannot open", path));
  auto batch = std::make_unique<v1::ObservationBatch>();
  const bool parsed = batch->ParseFromFileDescriptor(fd);
  ::close(fd);
  if (!parsed) return absl::DataLossError(absl::StrCat("spool: ", path, " is not a readable batch"));
  if (batch->epoch() != entry.epoch || batch->sequence() != entry.sequence) {
    return absl::DataLossError(absl::StrCat("spool: ", path, " holds batch ", batch->epoch(), "-", batch->sequence()));
  }
  return batch;
}

void Spool::Remove(const Entry& entry) {
  const std::string path = PathOf(entry);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) spdlog::warn("{}", Errno("spool: cannot delete", path));
}

}  // namespace auscult::sensor
