# Debian packages, one per tier: `cpack -G DEB` (or `make package`) in the
# build directory makes oak-node, oak-cluster, oak-root and oakctl from the
# install() components node, cluster, root and oakctl. Build with
# -DCMAKE_INSTALL_PREFIX=/usr for packages (the units name the installed
# paths). Dependencies come from dpkg-shlibdeps; the maintainer scripts
# (cmake/deb/*.in) do what dh_installsystemd and dh_sysuser would: make the
# `oak` system user for the daemons that need no root, enable and start the
# units (start only where systemd runs), and on purge remove the state, the
# user and the unit state.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME oak)
set(CPACK_PACKAGE_VENDOR oak)
set(CPACK_PACKAGE_CONTACT "oak developers <oak@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "hierarchical edge orchestrator with an eBPF datapath")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL node cluster root oakctl)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# the packages are built from the install tree, not from a source package
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)

# per component: package name, unit, whether it runs as the `oak` user,
# extra dependencies (besides the shared libraries) and a description
set(oak_pkg_node oak-node)
set(oak_unit_node oak-node)
set(oak_user_node "")
set(oak_deps_node "init-system-helpers (>= 1.54)")
set(oak_recs_node "containerd, runc")
set(oak_desc_node "oak node agent: runs service instances and programs the eBPF datapath")

set(oak_pkg_cluster oak-cluster)
set(oak_unit_cluster oak-cluster)
set(oak_user_cluster oak)
set(oak_deps_cluster "adduser, init-system-helpers (>= 1.54)")
set(oak_recs_cluster "mosquitto")
set(oak_desc_cluster "oak cluster orchestrator: node registry, placement, service tables")

set(oak_pkg_root oak-root)
set(oak_unit_root oak-root)
set(oak_user_root oak)
set(oak_deps_root "adduser, init-system-helpers (>= 1.54)")
set(oak_recs_root "mosquitto")
set(oak_desc_root "oak root orchestrator: REST API, desired state, cluster federation")

set(oak_pkg_oakctl oakctl)
set(oak_unit_oakctl "")
set(oak_user_oakctl "")
set(oak_deps_oakctl "")
set(oak_recs_oakctl "")
set(oak_desc_oakctl "oakctl: command-line client for oak-root")

set(oak_deb_dir ${CMAKE_BINARY_DIR}/deb)
foreach(c ${CPACK_COMPONENTS_ALL})
  string(TOUPPER ${c} C)
  set(CPACK_DEBIAN_${C}_PACKAGE_NAME ${oak_pkg_${c}})
  set(CPACK_DEBIAN_${C}_PACKAGE_DEPENDS "${oak_deps_${c}}")
  set(CPACK_DEBIAN_${C}_PACKAGE_RECOMMENDS "${oak_recs_${c}}")
  set(CPACK_DEBIAN_${C}_DESCRIPTION "${oak_desc_${c}}")
  set(extra "")
  if(oak_unit_${c})
    # what the maintainer scripts are filled with
    set(OAK_PKG ${oak_pkg_${c}})
    set(OAK_UNIT ${oak_unit_${c}}.service)
    set(OAK_USER ${oak_user_${c}})
    set(OAK_CONFFILE ${CMAKE_INSTALL_FULL_SYSCONFDIR}/oak/${oak_pkg_${c}}.conf)
    foreach(s postinst prerm postrm)
      configure_file(${PROJECT_SOURCE_DIR}/cmake/deb/${s}.in ${oak_deb_dir}/${c}/${s} @ONLY
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                         WORLD_READ WORLD_EXECUTE)
      list(APPEND extra ${oak_deb_dir}/${c}/${s})
    endforeach()
    # the config is a conffile: an edited one survives upgrades and removal
    file(WRITE ${oak_deb_dir}/${c}/conffiles "${OAK_CONFFILE}\n")
    list(APPEND extra ${oak_deb_dir}/${c}/conffiles)
  endif()
  set(CPACK_DEBIAN_${C}_PACKAGE_CONTROL_EXTRA "${extra}")
endforeach()

include(CPack)
