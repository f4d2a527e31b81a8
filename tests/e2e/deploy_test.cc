// What deploy/ ships for running Auscult as services: the systemd units (checked by systemd's own
// analyzer, for syntax and for how much they expose) and the example flag files (each binary's
// --check_config passes them once their paths point at real files), and the refusal of bad
// configuration with a message naming the flag.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

namespace fs = std::filesystem;

std::string Source(const std::string& relative) { return std::string(AUSCULT_SOURCE_DIR) + "/" + relative; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class DeployTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("auscult-deploy-", getpid(), "-",
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A copy of a shipped file with its installed paths replaced.
  std::string Rewrite(const std::string& relative, const std::vector<std::pair<std::string, std::string>>& replace,
                      const std::string& name) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << absl::StrReplaceAll(ReadFile(Source(relative)), replace);
    return path;
  }

  fs::path dir_;
};

TEST_F(DeployTest, SystemdUnitsVerifyAndExposeLittle) {
  if (RunCommand({"systemd-analyze", "--version"}).exit_code != 0) GTEST_SKIP() << "no systemd-analyze here";
  // The units as installed name /usr/bin; here, the binaries just built (verify checks they exist).
  const std::vector<std::pair<std::string, std::string>> bin = {
      {"/usr/bin/auscult-", fs::path(BinaryPath("auscult-sensor")).parent_path().string() + "/auscult-"}};
  const std::vector<std::string> units = {
      Rewrite("deploy/systemd/auscult-collector.service", bin, "auscult-collector.service"),
      // A template is verified as an instance of it, as systemctl would start it.
      Rewrite("deploy/systemd/auscult-sensor@.service", bin, "auscult-sensor@north-wing.service")};
  for (const std::string& unit : units) {
    const CommandResult verify = RunCommand({"systemd-analyze", "verify", unit});
    EXPECT_EQ(verify.exit_code, 0) << unit << "\n" << verify.err;
    EXPECT_EQ(verify.err, "") << unit << ": systemd warns about the unit";
    // systemd's own score of what the service could do if compromised: 0 (nothing) to 10.
    // --threshold is that score times ten; 3.0 and below is "OK" in its words.
    const CommandResult security =
        RunCommand({"systemd-analyze", "security", "--offline=yes", "--threshold=30", "--no-pager", unit});
    EXPECT_EQ(security.exit_code, 0) << unit << "\n" << security.out << security.err;
    EXPECT_NE(security.out.find("Overall exposure level"), std::string::npos) << security.out;
  }
  // The sensor may capture and nothing more; the collector may do nothing privileged at all.
  const std::string sensor = ReadFile(Source("deploy/systemd/auscult-sensor@.service"));
  EXPECT_NE(sensor.find("\nCapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN\n"), std::string::npos);
  EXPECT_NE(sensor.find("\nUser=auscult-sensor\n"), std::string::npos);
  const std::string collector = ReadFile(Source("deploy/systemd/auscult-collector.service"));
  EXPECT_NE(collector.find("\nCapabilityBoundingSet=\n"), std::string::npos);
  EXPECT_NE(collector.find("\nUser=auscult\n"), std::string::npos);
}

TEST_F(DeployTest, ExampleFlagFilesPassTheChecksOfTheirBinaries) {
  const std::string pki = (dir_ / "tls").string();
  for (const std::vector<std::string>& step :
       {std::vector<std::string>{"init"}, {"collector", "collector.example.org"}, {"sensor", "north-wing-1"}}) {
    std::vector<std::string> argv = {Source("deploy/pki.sh"), pki};
    argv.insert(argv.end(), step.begin(), step.end());
    const CommandResult r = RunCommand(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::vector<std::pair<std::string, std::string>> paths = {
      {"/etc/auscult/tls/", pki + "/"},
      {"/var/lib/auscult/", dir_.string() + "/"},
      {"--interface=eth1", "--interface=lo"},
      {"/usr/share/auscult/device_rules.txt", Source("collector/data/device_rules.txt")}};
  const std::string sensor_flags = Rewrite("deploy/examples/sensor-north-wing.flags", paths, "sensor.flags");
  const CommandResult sensor =
      RunCommand({BinaryPath("auscult-sensor"), "--flagfile=" + sensor_flags, "--check_config"});
  EXPECT_EQ(sensor.exit_code, 0) << sensor.err;
  EXPECT_EQ(sensor.out, "auscult-sensor: configuration OK\n") << sensor.err;
  const std::string collector_flags = Rewrite("deploy/examples/collector.flags", paths, "collector.flags");
  const CommandResult collector =
      RunCommand({BinaryPath("auscult-collector"), "--flagfile=" + collector_flags, "--check_config"});
  EXPECT_EQ(collector.exit_code, 0) << collector.err;
  EXPECT_EQ(collector.out, "auscult-collector: configuration OK\n") << collector.err;

  // The shipped files, with their paths as installed, are refused here for a file that is not
  // there (not for a flag a binary does not know), naming the flag or the file.
  const CommandResult as_shipped = RunCommand(
      {BinaryPath("auscult-collector"), "--flagfile=" + Source("deploy/examples/collector.flags"), "--check_config"});
  EXPECT_EQ(as_shipped.exit_code, 2) << as_shipped.err;
  EXPECT_NE(as_shipped.err.find("/etc/auscult/tls/"), std::string::npos) << as_shipped.err;
}

struct BadFlag {
  const char* binary;
  const char* flag;
  const char* says;  // in the message
};

TEST_F(DeployTest, BadConfigurationIsRefusedAtStartNamingTheFlag) {
  const std::vector<std::string> sensor_base = {"--interface=lo", "--sensor_id=s1", "--insecure", "--check_config"};
  const std::vector<std::string> collector_base = {"--insecure", "--db=postgresql://nobody@/nothing", "--check_config"};
  const BadFlag cases[] = {
      {"auscult-sensor", "--interface=nosuch0", "--interface"},
      {"auscult-sensor", "--bpf=port and and", "--bpf"},
      {"auscult-sensor", "--tls_cert=/nonexistent/cert.pem", "--tls_cert"},
      {"auscult-sensor", "--metrics_listen=nonsense", "--metrics_listen"},
      {"auscult-sensor", "--report_interval=0s", "--report_interval"},
      {"auscult-sensor", "--local_networks=10.0.0.0/99", "--local_networks"},
      {"auscult-sensor", "--sensor_id=bad id", "--sensor_id"},
      {"auscult-sensor", "--clinical_services=/nonexistent/services.txt", "--clinical_services"},
      {"auscult-collector", "--metrics_listen=unix:/tmp/x", "--metrics_listen"},
      {"auscult-collector", "--device_rules=/nonexistent/rules.txt", "--device_rules"},
      {"auscult-collector", "--db_connections=0", "--db_connections"},
      {"auscult-collector", "--listen=nowhere", "--listen"},
      {"auscult-collector", "--flow_retention=1m", "--flow_retention"},
  };
  for (const BadFlag& c : cases) {
    std::vector<std::string> argv = {BinaryPath(c.binary)};
    const auto& base = std::string(c.binary) == "auscult-sensor" ? sensor_base : collector_base;
    argv.insert(argv.end(), base.begin(), base.end());
    argv.push_back(c.flag);  // last: it wins over the base's
    const CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 2) << c.binary << " " << c.flag << "\n" << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.binary << " " << c.flag << "\n" << r.err;
    EXPECT_EQ(r.out.find("configuration OK"), std::string::npos) << c.binary << " " << c.flag;
  }
  // And the same base is accepted, so that each case above fails for its own flag.
  for (const char* binary : {"auscult-sensor", "auscult-collector"}) {
    std::vector<std::string> argv = {BinaryPath(binary)};
    const auto& base = std::string(binary) == "auscult-sensor" ? sensor_base : collector_base;
    argv.insert(argv.end(), base.begin(), base.end());
    const CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << binary << "\n" << r.err;
  }
}

// The two .deb packages, made by CPack from this build and unpacked into a temporary root as dpkg
// would install them: their binaries run from there, find their data files there, and the packages
// name the shared libraries they need.
TEST_F(DeployTest, PackagesInstallIntoATemporaryRootAndRun) {
  if (RunCommand({"cpack", "--version"}).exit_code != 0 || RunCommand({"dpkg-deb", "--version"}).exit_code != 0) {
    GTEST_SKIP() << "no cpack or dpkg-deb here";
  }
  const std::string out = (dir_ / "packages").string();
  const CommandResult made =
      RunCommand({"cpack", "-G", "DEB", "--config", std::string(AUSCULT_BINARY_DIR) + "/CPackConfig.cmake", "-B", out},
                 absl::Seconds(600));
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  std::map<std::string, std::string> debs;  // package name -> file
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".deb") debs[name.substr(0, name.find('_'))] = entry.path().string();
  }
  ASSERT_EQ(debs.size(), 2u) << made.out;
  ASSERT_TRUE(debs.count("auscult-sensor") && debs.count("auscult-collector")) << made.out;

  const std::map<std::string, std::vector<std::string>> expected = {
      {"auscult-sensor",
       {"./usr/bin/auscult-sensor", "./usr/share/auscult/tcp_os_fingerprints.txt",
        "./usr/share/auscult/clinical_services.txt", "./usr/lib/systemd/system/auscult-sensor@.service",
        "./usr/lib/sysusers.d/auscult-sensor.conf", "./usr/share/doc/auscult-sensor/copyright",
        "./usr/share/doc/auscult-sensor/examples/sensor-north-wing.flags"}},
      {"auscult-collector",
       {"./usr/bin/auscult-collector", "./usr/bin/auscult", "./usr/share/auscult/device_rules.txt",
        "./usr/share/auscult/grafana/dashboards/auscult-inventory.json", "./usr/share/auscult/pki.sh",
        "./usr/lib/systemd/system/auscult-collector.service", "./usr/lib/sysusers.d/auscult-collector.conf",
        "./usr/share/doc/auscult-collector/copyright", "./usr/share/doc/auscult-collector/examples/collector.flags"}}};
  const std::string root = (dir_ / "root").string();
  for (const auto& [package, deb] : debs) {
    const CommandResult fields = RunCommand({"dpkg-deb", "-f", deb, "Package", "Depends"});
    ASSERT_EQ(fields.exit_code, 0) << fields.err;
    EXPECT_NE(fields.out.find("Package: " + package), std::string::npos) << fields.out;
    // dpkg-shlibdeps named the libraries: capture for the sensor, PostgreSQL for the collector.
    EXPECT_NE(fields.out.find(package == "auscult-sensor" ? "libpcap0.8" : "libpqxx"), std::string::npos) << fields.out;
    EXPECT_NE(fields.out.find("libgrpc++"), std::string::npos) << fields.out;
    const CommandResult contents = RunCommand({"dpkg-deb", "-c", deb});
    ASSERT_EQ(contents.exit_code, 0) << contents.err;
    for (const std::string& path : expected.at(package)) {
      EXPECT_NE(contents.out.find(" " + path + "\n"), std::string::npos) << package << " lacks " << path;
    }
    // The maintainer scripts are there and are valid shell.
    const std::string control = (dir_ / ("control-" + package)).string();
    ASSERT_EQ(RunCommand({"dpkg-deb", "-e", deb, control}).exit_code, 0);
    for (const char* script : {"postinst", "prerm"}) {
      const std::string path = control + "/" + script;
      EXPECT_EQ(access(path.c_str(), X_OK), 0) << package << " " << script;
      EXPECT_EQ(RunCommand({"sh", "-n", path}).exit_code, 0) << package << " " << script;
    }
    const CommandResult unpacked = RunCommand({"dpkg-deb", "-x", deb, root});
    ASSERT_EQ(unpacked.exit_code, 0) << unpacked.err;
  }

  for (const char* binary : {"auscult-sensor", "auscult-collector", "auscult"}) {
    const CommandResult help = RunCommand({root + "/usr/bin/" + binary, "--help"});
    EXPECT_EQ(help.out.rfind(std::string(binary) + ": ", 0), 0u) << binary << "\n" << help.out << help.err;
    EXPECT_NE(help.out.find("--tls_ca"), std::string::npos) << binary << "\n" << help.out;
    EXPECT_EQ(help.err.find("rror"), std::string::npos) << binary << "\n" << help.err;
  }
  // The installed binaries find their data files in the root's share/auscult, not in this tree.
  const CommandResult collector = RunCommand(
      {root + "/usr/bin/auscult-collector", "--insecure", "--db=postgresql://auscult@/auscult", "--check_config"});
  EXPECT_EQ(collector.exit_code, 0) << collector.err;
  EXPECT_NE(collector.err.find("device rules " + root + "/usr/share/auscult/device_rules.txt"), std::string::npos)
      << collector.err;
  const CommandResult sensor = RunCommand({root + "/usr/bin/auscult-sensor", "--interface=lo", "--insecure",
                                           "--sensor_id=s1", "--check_config", "--log_level=debug"});
  EXPECT_EQ(sensor.exit_code, 0) << sensor.err;
  EXPECT_NE(sensor.err.find("TCP fingerprints from " + root + "/usr/share/auscult/tcp_os_fingerprints.txt"),
            std::string::npos)
      << sensor.err;
  EXPECT_NE(sensor.err.find("clinical service ports from " + root + "/usr/share/auscult/clinical_services.txt"),
            std::string::npos)
      << sensor.err;
}

}  // namespace
}  // namespace auscult::testing
