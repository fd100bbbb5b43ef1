#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
// Before anything can print: no credential in a URL reaches stdout or stderr, whoever writes it.
const { redactProcessOutput } = await import('../src/core/redact.ts');
redactProcessOutput();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
