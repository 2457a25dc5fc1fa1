#!/usr/bin/env node
// The package's bin (`trpc-live check <router module>`, see USAGE in check.ts); reachable only as
// the bin: package.json's exports name no cli subpath.
import { runCli } from './check.ts';

const result = await runCli(process.argv.slice(2), process.cwd());
process.stderr.write(result.stderr);
// Exit once stdout is flushed, explicitly: the checked app may have created handles (a database,
// timers) that would keep the process alive.
process.stdout.write(result.stdout, () => process.exit(result.code));
