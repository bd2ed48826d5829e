#!/usr/bin/env node
import { runCli } from './cli.js';

runCli(process.argv.slice(2), { installSignals: true }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
