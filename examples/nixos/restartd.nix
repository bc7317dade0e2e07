# NixOS module snippet: import it from configuration.nix (imports = [ ./restartd.nix ];) with a
# `restartd` package in scope (pkgs.restartd from your overlay).
#
# switch-to-configuration already restarts the units whose unit files changed. restartd finishes
# the rest: processes that still map store paths of the old closure (a library upgraded under a
# unit whose file did not change, user programs, X-RestartIfChanged=false units are left alone).
#
# Two ways, pick one:
# 1. `restartd watch` follows /run/current-system: each settled switch (nixos-rebuild switch,
#    a rollback) runs once, old = previous system, new = current one.
# 2. An activation snippet that records the switch for `restartd hook` (the activation script runs
#    before /run/current-system moves, so it still names the old system).
{ config, lib, pkgs, ... }:
{
  systemd.services.restartd-watch = {
    description = "restartd: restart what still runs the previous NixOS generation";
    wantedBy = [ "multi-user.target" ];
    after = [ "dbus.service" ];
    # restartd never restarts itself mid-run.
    restartIfChanged = false;
    serviceConfig = {
      Type = "exec";
      ExecStart = "${pkgs.restartd}/bin/restartd watch --link /run/current-system --source nix --debounce 5";
      StateDirectory = "restartd";
      Restart = "on-failure";
    };
  };

  # Option 2 (instead of the service above): record and apply through the hook, bounded to 30 s.
  # system.activationScripts.restartd = lib.stringAfter [ "etc" ] ''
  #   if [ -e /run/current-system ]; then
  #     RESTARTD_OLD=$(readlink -f /run/current-system) RESTARTD_NEW=$systemConfig RESTARTD_SOURCE=nix \
  #       RESTARTD_SUSPEND=1 ${pkgs.restartd}/bin/restartd hook || true
  #   fi
  # '';
  # …and after `nixos-rebuild switch` returns: `restartd hook` (carries the recorded switch out,
  # after switch-to-configuration has done its own restarts).
}
