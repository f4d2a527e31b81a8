# What `cmake --install` lays out, and the two Debian packages CPack makes of it
# (`cpack -G DEB` in the build folder; docs/deploy.md, "Installing"):
#   auscult-sensor     the sensor, its data files, its systemd template unit and system user
#   auscult-collector  the collector and the `auscult` CLI, the device rules, the collector's unit
#                      and system user, the Grafana dashboard, pki.sh, nginx and flag file examples
# Paths are relative to the prefix (/usr for the packages): binaries in bin, data in share/auscult
# (where the binaries look, beside ../share/auscult of their own path: common/data_files.h), units
# in lib/systemd/system, users in lib/sysusers.d, documentation in share/doc/<package>.
include(GNUInstallDirs)

set(_deploy ${PROJECT_SOURCE_DIR}/deploy)
set(_docs ${PROJECT_SOURCE_DIR}/docs)

# ---- sensor ----
install(FILES ${_deploy}/systemd/auscult-sensor@.service DESTINATION lib/systemd/system COMPONENT sensor)
install(FILES ${_deploy}/systemd/auscult-sensor.sysusers.conf DESTINATION lib/sysusers.d
        RENAME auscult-sensor.conf COMPONENT sensor)
install(FILES ${_deploy}/examples/sensor-north-wing.flags DESTINATION share/doc/auscult-sensor/examples
        COMPONENT sensor)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${_docs}/deploy.md ${_docs}/security.md ${_docs}/parsers.md
        ${_docs}/third-party.md DESTINATION share/doc/auscult-sensor COMPONENT sensor)
install(FILES ${_docs}/LICENSE DESTINATION share/doc/auscult-sensor RENAME copyright COMPONENT sensor)

# ---- collector ----
install(FILES ${_deploy}/systemd/auscult-collector.service DESTINATION lib/systemd/system COMPONENT collector)
install(FILES ${_deploy}/systemd/auscult-collector.sysusers.conf DESTINATION lib/sysusers.d
        RENAME auscult-collector.conf COMPONENT collector)
install(PROGRAMS ${_deploy}/pki.sh DESTINATION share/auscult COMPONENT collector)
install(FILES ${_deploy}/db-hand-over.sql DESTINATION share/auscult COMPONENT collector)
install(DIRECTORY ${_deploy}/grafana DESTINATION share/auscult COMPONENT collector)
install(FILES ${_deploy}/examples/collector.flags ${_deploy}/examples/segments.csv
        DESTINATION share/doc/auscult-collector/examples COMPONENT collector)
install(DIRECTORY ${_deploy}/nginx DESTINATION share/doc/auscult-collector/examples COMPONENT collector)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${_docs}/deploy.md ${_docs}/api.md ${_docs}/schema.md
        ${_docs}/dashboards.md ${_docs}/security.md ${_docs}/scale-out.md ${_docs}/classification.md
        ${_docs}/risk.md ${_docs}/clinical.md ${_docs}/third-party.md
        DESTINATION share/doc/auscult-collector COMPONENT collector)
install(FILES ${_docs}/LICENSE DESTINATION share/doc/auscult-collector RENAME copyright COMPONENT collector)

# ---- packages ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME auscult)
set(CPACK_PACKAGE_VENDOR "Auscult")
set(CPACK_PACKAGE_CONTACT "Auscult maintainers <auscult@localhost>")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://github.com/auscult/auscult")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL sensor collector)  # not the tests' or benchmarks' files
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # auscult-sensor_0.1.0_amd64.deb
set(CPACK_STRIP_FILES ON)                # the build keeps its debug information; the packages do not
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries the binaries link (gRPC, Protobuf, Abseil, libpcap, libpqxx, ...), as
# Debian's dpkg-shlibdeps finds them: the package installs on Debian 12 with apt pulling those.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)

set(CPACK_DEBIAN_SENSOR_PACKAGE_NAME auscult-sensor)
set(CPACK_COMPONENT_SENSOR_DESCRIPTION
    "Auscult passive network sensor for hospital networks\n"
    " Watches one hospital segment (a SPAN or TAP port per wing) without sending a packet, finds the\n"
    " medical devices on it and what they talk to, and streams devices and flows to an\n"
    " auscult-collector. One instance per wing: auscult-sensor@WING.service.")
# ieee-data: the OUI files that name a device's vendor from its MAC address.
set(CPACK_DEBIAN_SENSOR_PACKAGE_RECOMMENDS "ieee-data")
set(CPACK_DEBIAN_SENSOR_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_BINARY_DIR}/debian/sensor/postinst ${CMAKE_CURRENT_BINARY_DIR}/debian/sensor/prerm)

set(CPACK_DEBIAN_COLLECTOR_PACKAGE_NAME auscult-collector)
set(CPACK_COMPONENT_COLLECTOR_DESCRIPTION
    "Auscult collector and command line for hospital device visibility\n"
    " Authenticates Auscult sensors, merges what they see into a PostgreSQL asset database (devices,\n"
    " classification, risk, the communication graph) and serves it over gRPC to the auscult command\n"
    " line and to dashboards.")
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_RECOMMENDS "openssl")  # pki.sh
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_SUGGESTS "postgresql (>= 15), nginx, grafana")
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_BINARY_DIR}/debian/collector/postinst ${CMAKE_CURRENT_BINARY_DIR}/debian/collector/prerm)

# Maintainer scripts must be named postinst and prerm, and executable.
foreach(_component sensor collector)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/debian/${_component})
  foreach(_script postinst prerm)
    file(COPY_FILE ${_deploy}/debian/${_component}.${_script} ${CMAKE_CURRENT_BINARY_DIR}/debian/${_component}/${_script})
    file(CHMOD ${CMAKE_CURRENT_BINARY_DIR}/debian/${_component}/${_script}
         PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  endforeach()
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${_deploy}/debian/sensor.postinst ${_deploy}/debian/sensor.prerm
             ${_deploy}/debian/collector.postinst ${_deploy}/debian/collector.prerm)
include(CPack)
