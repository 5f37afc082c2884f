/**
 * The Treasury engine (seed 004 §2, §4): accounts, credits, debits and multi-party settlements,
 * each a receipt in the Treasury scroll. Balances are never stored: they are the fold of the
 * scroll (src/core/treasury/), in exact bigint minor units, cached by the ledger.
 */
import { treasury } from '../../core/scrolls/treasury.js';
import { defineLedgerEngine } from '../framework/engine.js';
import { accountList, accountOpen } from './accounts.js';
import { audit, balance, credit, debit, query } from './entries.js';
import {
  settleDispute,
  settleExecute,
  settleList,
  settlePropose,
  settleShow,
  settleSign,
  settleVerify,
} from './settlements.js';

export const treasuryEngine = defineLedgerEngine(
  {
    id: 'treasury',
    title: 'Treasury',
    description: 'exact money: accounts, credits, debits and signed multi-party settlements',
    scroll: treasury,
  },
  [
    accountOpen,
    accountList,
    credit,
    debit,
    balance,
    query,
    settlePropose,
    settleSign,
    settleShow,
    settleList,
    settleExecute,
    settleDispute,
    settleVerify,
    audit,
  ],
);
