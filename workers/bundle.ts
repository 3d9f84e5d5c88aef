import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { dataConverter } from '../clients/data-converter';

/** Bundles the workflow code (webpack + swc). Do it once per process and share the result. */
export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    // Workflow code encodes payloads inside the bundle: bigint-safe JSON must be bundled with it.
    payloadConverterPath: dataConverter.payloadConverterPath,
    logger: { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined },
  });
}
