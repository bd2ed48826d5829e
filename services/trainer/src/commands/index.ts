import { analyzeCommand } from './analyze.js';
import type { Command } from './command.js';
import { commandTable } from './help.js';
import { monitorCommand } from './monitor.js';
import { promoteChallengerCommand } from './promote-challenger.js';
import { rollbackCommand } from './rollback.js';
import { runCommand } from './run.js';
import { scheduleCommand } from './schedule.js';
import { statusCommand } from './status.js';

/** The trainer's commands, in the order help and the README list them. A new command is one entry here. */
export const COMMANDS: readonly Command[] = [
  runCommand,
  scheduleCommand,
  rollbackCommand,
  promoteChallengerCommand,
  statusCommand,
  monitorCommand,
  analyzeCommand,
];

/** The README's command table (scripts/config-reference.ts writes it; a test checks it). */
export const renderCommandTable = (): string => commandTable(COMMANDS);
