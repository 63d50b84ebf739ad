# ctest registration of the VM tests (label "vm"). Included from
# tests/CMakeLists.txt:
#   include(${PROJECT_SOURCE_DIR}/vmtest/tests.cmake)
#
# One test per kernel in OAK_VMTEST_KERNELS (default: Debian 12's 6.1), each
# running vmtest/suite.sh (BPF packet tests, namespaces end to end, XDP
# multi-program) in a qemu VM on that kernel. Exit code 77 (no qemu and no
# way to install it, no kernel to be had, or every test skipped) makes ctest
# report the test as skipped, not failed.
#
#   ctest -L vm --output-on-failure
#   cmake -DOAK_VMTEST_KERNELS="6.1;6.12" ...   # more kernels

set(OAK_VMTEST_KERNELS "6.1" CACHE STRING
    "Kernels the vm tests boot (vmtest/run --kernel values: 6.1, 6.12, a directory)")
# The VM part must stay well inside CI's budget: 5 minutes, the one-time
# kernel download (~70 MB, a few seconds from a Debian mirror) included.
set(OAK_VMTEST_TIMEOUT 290 CACHE STRING "Seconds a vm test may run inside its VM")

get_filename_component(_oak_vmtest_dir ${CMAKE_CURRENT_LIST_DIR} ABSOLUTE)
get_filename_component(_oak_vmtest_repo ${_oak_vmtest_dir} DIRECTORY)

foreach(_k ${OAK_VMTEST_KERNELS})
  string(REGEX REPLACE "[^A-Za-z0-9_.-]" "_" _name "vm_suite_${_k}")
  add_test(NAME ${_name}
           COMMAND ${_oak_vmtest_dir}/run --kernel ${_k} --timeout ${OAK_VMTEST_TIMEOUT}
                   -- vmtest/suite.sh
           WORKING_DIRECTORY ${_oak_vmtest_repo})
  math(EXPR _ctest_timeout "${OAK_VMTEST_TIMEOUT} + 10")
  set_tests_properties(${_name} PROPERTIES
    LABELS vm
    SKIP_RETURN_CODE 77
    TIMEOUT ${_ctest_timeout}
    # the suite finds the binaries of this build tree
    ENVIRONMENT "OAK_BUILD_DIR=${CMAKE_BINARY_DIR}"
    # 2 guest CPUs under TCG: do not compete with other tests
    RUN_SERIAL TRUE)
endforeach()
