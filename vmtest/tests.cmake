# ctest registration of the VM tests (label "vm"). Included from
# tests/CMakeLists.txt:
#   include(${PROJECT_SOURCE_DIR}/vmtest/tests.cmake)
#
# For each kernel in OAK_VMTEST_KERNELS (default: Debian 12's 6.1), in a
# VM (TCG) on that kernel, booted by OAK_VMTEST_RUNNER (default vng):
#   vm_suite_<k>  vmtest/suite.sh bpf_datapath xdp_multiprog  (~35 s)
#   vm_e2e_<k>    vmtest/suite.sh e2e_datapath                 (~6-7 min under
#                 TCG, ~7 min; off with -DOAK_VMTEST_E2E=OFF; label "vm;slow")
# Exit code 77 (no qemu and no way to install it, no kernel to be had, or
# every test skipped) makes ctest report a test as skipped, not failed.
#
#   ctest -L vm --output-on-failure
#   cmake -DOAK_VMTEST_KERNELS="6.1;6.12" -DOAK_VMTEST_E2E=ON ...

# The VMs boot through virtme-ng (vng, fetched by tools/deps.sh); "qemu" is
# vmtest's own runner (faster under TCG), "auto" vng with qemu as fallback.
set(OAK_VMTEST_RUNNER "vng" CACHE STRING "vmtest/run --runner of the vm tests: vng, qemu or auto")
# vm_e2e_* stays on vmtest's own runner: under vng it did not finish in its
# 900 s (4 of its checks done when the limit hit, on a loaded machine),
# while the qemu runner got through all 25 checks in ~7 min.
set(OAK_VMTEST_E2E_RUNNER "qemu" CACHE STRING "vmtest/run --runner of vm_e2e_*")
set(OAK_VMTEST_KERNELS "6.1" CACHE STRING
    "Kernels the vm tests boot (vmtest/run --kernel values: 6.1, 6.12, a directory)")
option(OAK_VMTEST_E2E "Also run the namespaces end-to-end test in the VM (~7 min under TCG)" ON)
# The VM part must stay well inside CI's budget (the whole suite under 40
# minutes), the one-time kernel download (~70 MB, a few seconds) included.
# vng under TCG is several times slower than vmtest's own runner (the suite:
# 213 s against ~35 s, measured on a loaded 2-core machine), hence 480.
set(OAK_VMTEST_TIMEOUT 480 CACHE STRING "Seconds vm_suite_* may run inside its VM")
set(OAK_VMTEST_E2E_TIMEOUT 900 CACHE STRING "Seconds vm_e2e_* may run inside its VM")

get_filename_component(_oak_vmtest_dir ${CMAKE_CURRENT_LIST_DIR} ABSOLUTE)
get_filename_component(_oak_vmtest_repo ${_oak_vmtest_dir} DIRECTORY)

function(_oak_vm_test name runner kernel timeout labels)
  string(REGEX REPLACE "[^A-Za-z0-9_.-]" "_" name "${name}")
  add_test(NAME ${name}
           COMMAND ${_oak_vmtest_dir}/run --runner ${runner} --kernel ${kernel}
                   --timeout ${timeout}
                   -- vmtest/suite.sh ${ARGN}
           WORKING_DIRECTORY ${_oak_vmtest_repo})
  math(EXPR _ctest_timeout "${timeout} + 30")
  set_tests_properties(${name} PROPERTIES
    LABELS "${labels}"
    SKIP_RETURN_CODE 77
    TIMEOUT ${_ctest_timeout}
    # the suite runs the binaries of this build tree
    ENVIRONMENT "OAK_BUILD_DIR=${CMAKE_BINARY_DIR}"
    # 2 guest CPUs under TCG: do not compete with other tests
    RUN_SERIAL TRUE)
endfunction()

foreach(_k ${OAK_VMTEST_KERNELS})
  _oak_vm_test("vm_suite_${_k}" ${OAK_VMTEST_RUNNER} ${_k} ${OAK_VMTEST_TIMEOUT} "vm"
               bpf_datapath xdp_multiprog)
  if(OAK_VMTEST_E2E)
    _oak_vm_test("vm_e2e_${_k}" ${OAK_VMTEST_E2E_RUNNER} ${_k} ${OAK_VMTEST_E2E_TIMEOUT} "vm;slow"
                 e2e_datapath)
  endif()
endforeach()
