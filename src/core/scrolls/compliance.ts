import { z } from 'zod';
import { bodyWith, defineScroll, hashRef, stringList } from './define.js';

export const compliance = defineScroll({
  name: 'compliance',
  title: 'Compliance',
  engineId: 'engine:oracle',
  description: 'Oracle answers to compliance questions, with citations and flags.',
  file: 'receipts/compliance/oracle_answers.jsonl',
  rootFile: 'ROOT.compliance.txt',
  types: [
    {
      type: 'oracle_answer',
      description:
        'An answer produced by the compliance oracle, identified by the hash of its canonical JSON.',
      body: bodyWith({
        question: z.string().min(1),
        model_id: z.string().min(1),
        citations_used: stringList,
        compliance_flags: z.record(z.string(), z.boolean()),
        answer_hash: hashRef,
        context_docs: stringList.optional(),
        frameworks: stringList.optional(),
        extra: z.record(z.string(), z.unknown()).optional(),
      }),
    },
  ],
});
