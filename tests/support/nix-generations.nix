# Two generations of a small Nix "system", built by tests/nix-real.test.ts with a real nix-build
# (builders are the host's /bin/sh and gcc: sandbox off). `gen` is 1 or 2.
#   greeter-1.0  a C daemon linked against libgreet through an RPATH into libgreet's store path (a
#                real reference, found by Nix's scan of the output); its share/build-id holds only
#                the 32-char hash of hashonly-1 (Nix registers that as a reference too: it scans for
#                hashes, not for /nix/store/ prefixes); share/doc/README is the same in both.
#   libgreet     1.0 in generation 1, 1.1 in generation 2 (a version bump).
#   idler-1.0    a copy of sleep: the same store path in both generations.
#   oldonly-1 / newonly-1   only in generation 1 / 2.
{ gen }:
let
  system = builtins.currentSystem;
  mk = name: script: attrs: derivation ({
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" ("set -eu; export PATH=/usr/bin:/bin; " + script) ];
  } // attrs);
  version = if gen == 1 then "1.0" else "1.1";
  libgreet = mk "libgreet-${version}" ''
    mkdir -p $out/lib
    printf '%s\n' "$src" > greet.c
    gcc -shared -fPIC -o $out/lib/libgreet.so greet.c
  '' { src = ''const char *greet_version(void) { return "${version}"; }''; };
  hashonly = mk "hashonly-1" ''mkdir -p $out; echo "generation ${toString gen}" > $out/data'' { };
  greeter = mk "greeter-1.0" ''
    mkdir -p $out/bin $out/share/doc
    printf '%s\n' "$src" > main.c
    gcc -o $out/bin/greeter main.c -L${libgreet}/lib -lgreet -Wl,-rpath,${libgreet}/lib
    echo "identical in both generations" > $out/share/doc/README
    basename ${hashonly} | cut -c1-32 > $out/share/build-id
  '' {
    src = ''
      #include <stdio.h>
      #include <unistd.h>
      const char *greet_version(void);
      int main(void) { printf("greeter %s\n", greet_version()); fflush(stdout); for (;;) pause(); }
    '';
  };
  idler = mk "idler-1.0" ''mkdir -p $out/bin; cp /usr/bin/sleep $out/bin/idler'' { };
  only = name: mk name ''mkdir -p $out/share; echo ${name} > $out/share/data'' { };
in [ greeter idler (if gen == 1 then only "oldonly-1" else only "newonly-1") ]
