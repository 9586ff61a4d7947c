import type { TargetKind } from '../description.js';
import type { Artifact, TargetInput } from './common.js';
import { devDesktopArtifacts } from './dev-desktop.js';
import { CHART_NAME, helmChartFiles } from './helm.js';
import { k8sArtifacts } from './k8s.js';
import { serverlessArtifacts } from './serverless.js';

/** Every file a target needs, relative to its output directory. */
export function targetArtifacts(target: TargetKind, input: TargetInput): Artifact[] {
  switch (target) {
    case 'dev-desktop':
      return devDesktopArtifacts(input);
    case 'serverless':
      return serverlessArtifacts(input);
    case 'k8s':
      return [
        ...k8sArtifacts(input),
        ...helmChartFiles(input).map((f) => ({ ...f, path: `helm/${CHART_NAME}/${f.path}` })),
      ];
  }
}
