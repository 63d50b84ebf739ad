# Builds BPF objects with clang and turns each into a libbpf skeleton.
#
#   oak_bpf_object(NAME oak_tc SOURCE bpf/oak_tc.bpf.c)
# produces ${OAK_BPF_DIR}/oak_tc.bpf.o and ${OAK_BPF_DIR}/oak_tc.skel.h, and a
# target oak_tc_skel that userspace targets depend on.

find_program(CLANG clang REQUIRED)
find_program(BPFTOOL bpftool PATHS /usr/sbin /sbin REQUIRED)

set(OAK_BPF_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${OAK_BPF_DIR})

# vmlinux.h comes from the running kernel's BTF, never from the repository.
set(OAK_VMLINUX_H ${OAK_BPF_DIR}/vmlinux.h)
add_custom_command(
  OUTPUT ${OAK_VMLINUX_H}
  COMMAND ${BPFTOOL} btf dump file /sys/kernel/btf/vmlinux format c > ${OAK_VMLINUX_H}.tmp
  COMMAND ${CMAKE_COMMAND} -E rename ${OAK_VMLINUX_H}.tmp ${OAK_VMLINUX_H}
  COMMENT "Generating vmlinux.h from /sys/kernel/btf/vmlinux"
  VERBATIM)
add_custom_target(oak_vmlinux DEPENDS ${OAK_VMLINUX_H})

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64")
  set(OAK_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64")
  set(OAK_BPF_ARCH arm64)
else()
  set(OAK_BPF_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

function(oak_bpf_object)
  cmake_parse_arguments(A "" "NAME;SOURCE" "" ${ARGN})
  set(obj ${OAK_BPF_DIR}/${A_NAME}.bpf.o)
  set(skel ${OAK_BPF_DIR}/${A_NAME}.skel.h)
  file(GLOB_RECURSE deps ${CMAKE_SOURCE_DIR}/bpf/*.h ${CMAKE_SOURCE_DIR}/include/oak/*.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CLANG} -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_${OAK_BPF_ARCH}
            -Wall -Werror -Wno-unused-function
            -I${OAK_BPF_DIR} -I${CMAKE_SOURCE_DIR}/bpf -I${CMAKE_SOURCE_DIR}/include
            -c ${CMAKE_SOURCE_DIR}/${A_SOURCE} -o ${obj}
    DEPENDS ${CMAKE_SOURCE_DIR}/${A_SOURCE} ${deps} oak_vmlinux
    COMMENT "BPF ${A_NAME}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${A_NAME} > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${A_NAME}"
    VERBATIM)
  add_custom_target(${A_NAME}_skel ALL DEPENDS ${skel} ${obj})
  add_dependencies(${A_NAME}_skel oak_vmlinux)
endfunction()
