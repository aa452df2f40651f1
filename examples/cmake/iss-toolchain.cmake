# CMake toolchain file for firmware of the simulated PULP cluster.
#
#   cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE=/path/to/iss-toolchain.cmake [-DISS_CORES=8]
#   cmake --build build          # each add_executable() target is an ELF: iss run build/app
#
# It asks `iss cc --print-flags` for the exact compiler command and flags (the
# same ones iss cc uses), so CMake drives the ziglang wheel's clang itself.
# ISS (default: `iss` on PATH) names the iss command; ISS_CORES and
# ISS_STACK_SIZE are passed to --cores / --stack-size.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

if(NOT DEFINED ISS)
  set(ISS iss)
endif()
if(NOT DEFINED ISS_CORES)
  set(ISS_CORES 8)
endif()
if(NOT DEFINED ISS_STACK_SIZE)
  set(ISS_STACK_SIZE 2048)
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ISS ISS_CORES ISS_STACK_SIZE)

execute_process(
  COMMAND ${ISS} cc --print-flags --cores ${ISS_CORES} --stack-size ${ISS_STACK_SIZE}
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  OUTPUT_VARIABLE _iss_flags
  RESULT_VARIABLE _iss_rc)
if(NOT _iss_rc EQUAL 0)
  message(FATAL_ERROR "iss-toolchain.cmake: `${ISS} cc --print-flags` failed (${_iss_rc})")
endif()
string(REGEX MATCH "CC += ([^\n]*)" _ "${_iss_flags}")
separate_arguments(_iss_cc UNIX_COMMAND "${CMAKE_MATCH_1}")
string(REGEX MATCH "CFLAGS += ([^\n]*)" _ "${_iss_flags}")
set(_iss_cflags "${CMAKE_MATCH_1}")
string(REGEX MATCH "LDFLAGS += ([^\n]*)" _ "${_iss_flags}")
set(_iss_ldflags "${CMAKE_MATCH_1}")

# CC is `python -m ziglang cc`: the interpreter is the compiler, the rest its first arguments.
list(POP_FRONT _iss_cc _iss_python)
list(JOIN _iss_cc " " _iss_cc_args)
set(CMAKE_C_COMPILER "${_iss_python}")
set(CMAKE_ASM_COMPILER "${_iss_python}")
set(CMAKE_C_COMPILER_ARG1 "${_iss_cc_args}")
set(CMAKE_ASM_COMPILER_ARG1 "${_iss_cc_args}")
set(CMAKE_C_COMPILER_ID Clang)
set(CMAKE_C_COMPILER_FORCED TRUE)
set(CMAKE_ASM_COMPILER_FORCED TRUE)
set(CMAKE_C_FLAGS_INIT "${_iss_cflags}")
set(CMAKE_ASM_FLAGS_INIT "${_iss_cflags}")
# the runtime and C library come after the program's own objects
set(CMAKE_C_LINK_EXECUTABLE
    "<CMAKE_C_COMPILER> <FLAGS> <CMAKE_C_LINK_FLAGS> <OBJECTS> <LINK_LIBRARIES> ${_iss_ldflags} -o <TARGET>")
# zig's caches in the build tree, not in $HOME
set(_iss_env env "ZIG_GLOBAL_CACHE_DIR=${CMAKE_BINARY_DIR}/.zig-cache" "ZIG_LOCAL_CACHE_DIR=${CMAKE_BINARY_DIR}/.zig-cache")
set(CMAKE_C_COMPILER_LAUNCHER ${_iss_env})
set(CMAKE_ASM_COMPILER_LAUNCHER ${_iss_env})
list(JOIN _iss_env " " _iss_env_line)
set_property(GLOBAL PROPERTY RULE_LAUNCH_LINK "${_iss_env_line}")
