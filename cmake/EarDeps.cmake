# Every dependency is a Debian 12 package; a missing one stops configuration
# with the package to install, not with a pkg-config riddle.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

function(ear_require target module debpkg)
  pkg_check_modules(${target} QUIET IMPORTED_TARGET ${module})
  if(NOT ${target}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${debpkg}")
  endif()
endfunction()

ear_require(CURL    libcurl     libcurl4-openssl-dev)
ear_require(XML2    libxml-2.0  libxml2-dev)
ear_require(JANSSON jansson     libjansson-dev)
ear_require(PCRE2   libpcre2-8  libpcre2-dev)
ear_require(SQLITE  sqlite3     libsqlite3-dev)
ear_require(YAML    yaml-0.1    libyaml-dev)
ear_require(CRYPTO  libcrypto   libssl-dev)
ear_require(CAIRO   cairo       libcairo2-dev)
ear_require(MHD     libmicrohttpd libmicrohttpd-dev)
ear_require(XCRYPT  libxcrypt   libcrypt-dev)
