if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wmissing-prototypes
    -Wstrict-prototypes -Wwrite-strings -Wundef -Wformat=2 -Wno-format-nonliteral)
  if(EAR_WERROR)
    add_compile_options(-Werror)
  endif()
endif()
if(EAR_SANITIZE)
  add_compile_options(-fsanitize=${EAR_SANITIZE} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${EAR_SANITIZE} -fno-sanitize-recover=all)
endif()
