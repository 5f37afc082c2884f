/** The drill contract (`contract.json`): the plan a drill runner walks, in the seed's shape. */
import { z } from 'zod';

const fileName = z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected a plain file name');

export const drillStageSchema = z.object({
  id: z.string().min(1).max(128),
  order: z.number().int().min(1),
  skill: z.string().min(1),
  workflow: z.string().min(1),
  role: z.enum(['primary', 'supporting']),
  objective: z.string().default(''),
  actions: z.array(z.string()).default([]),
  expected_outputs: z.array(fileName).default([]),
});

export const SEVERITIES = ['unknown', 'low', 'medium', 'high', 'critical'] as const;

export const drillContractSchema = z.object({
  id: z.string().min(1).max(128),
  title: z.string().min(1).max(512),
  prompt: z.string().max(4000).default(''),
  severity: z.enum(SEVERITIES).default('unknown'),
  sequential: z.boolean().default(true),
  created_at: z.iso.datetime({ offset: true }).optional(),
  objectives: z.array(z.string()).default([]),
  tags: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/, 'expected a tag such as iot'))
    .max(32)
    .default([]),
  stages: z.array(drillStageSchema).min(1).max(64),
  routing: z.array(z.object({ skill: z.string(), score: z.number(), reason: z.string() })).optional(),
});

export type DrillContract = z.infer<typeof drillContractSchema>;
export type DrillStage = z.infer<typeof drillStageSchema>;
