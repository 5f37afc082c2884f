#!/usr/bin/env node
import { main } from '../dist/interfaces/cli/main.js';

process.exitCode = await main(process.argv);
