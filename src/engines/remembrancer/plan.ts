/** A deployment's contract: its id is `<component>@<version>`, so a version is recorded once. */
import type { PlanContext } from '../framework/engine.js';
import { deploymentContractSchema, deploymentId, type DeploymentContract } from './contract.js';

export interface DeploymentIntent {
  component: string;
  version: string;
  sha256: string;
  artifactName?: string;
  chainRef?: string;
  signers: DeploymentContract['signers'];
}

export function planDeployment(intent: DeploymentIntent, context: PlanContext): DeploymentContract {
  return deploymentContractSchema.parse({
    id: context.id ?? deploymentId(intent.component, intent.version),
    title: `deploy ${intent.component} ${intent.version}`,
    sequential: true,
    created_at: context.now.toISOString(),
    component: intent.component,
    version: intent.version,
    artifact_sha256: intent.sha256,
    ...(intent.artifactName === undefined ? {} : { artifact_name: intent.artifactName }),
    ...(intent.chainRef === undefined ? {} : { chain_ref: intent.chainRef }),
    signers: intent.signers,
    stages: [
      { id: 'evidence', order: 1, title: 'keep the evidence file' },
      { id: 'signatures', order: 2, title: 'sign the artifact' },
    ],
  });
}
