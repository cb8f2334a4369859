/**
 * Started as root, `run` gives root up once the capture handle and the outputs
 * are open (daemon.user / --user), as tcpdump's -Z does. setuid() from root to
 * another user clears the permitted, effective and ambient capability sets
 * (no PR_SET_KEEPCAPS), so nothing privileged is kept: the open capture
 * socket and files stay usable, nothing new can be opened with root's rights.
 * glibc applies setuid/setgid to every thread, the capture thread included.
 */
import { execFileSync } from 'node:child_process';
import { ConfigError } from '../config.js';

export interface Dropped { user: string; uid: number; gid: number }

/** Looks the user up (id(1): passwd, LDAP … as NSS says) and switches to it; a user that cannot be used is a ConfigError (exit 2). */
export function dropPrivileges(user: string): Dropped {
  const id = (flag: string): number => {
    try {
      return Number(execFileSync('id', [flag, '--', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim());
    } catch {
      throw new ConfigError(`daemon.user: no such user ${JSON.stringify(user)}`);
    }
  };
  const uid = id('-u');
  const gid = id('-g');
  const me = process.getuid?.() ?? -1;
  if (me === uid) return { user, uid, gid }; // already that user (e.g. systemd User=)
  if (me !== 0) throw new ConfigError(`daemon.user: switching to ${JSON.stringify(user)} needs tapwatch to be started as root (running as uid ${me})`);
  process.setgroups!([gid]); // root's supplementary groups go too
  process.setgid!(gid);
  process.setuid!(uid);
  return { user, uid, gid };
}
