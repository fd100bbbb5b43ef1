/**
 * KWOK stages of the test cluster. KWOK picks among the stages that match a pod by weight; the
 * project's ImagePullBackOff stage (cluster/config/kwok/) has weight 1 against the defaults' 0, so
 * it wins for a pod that carries FAIL_ANNOTATION. The default pod-ready stage would still turn that
 * pod Running once it is waiting in ImagePullBackOff; the build adds a DoesNotExist on the
 * annotation to it, so the failed pod stays failed.
 */
import { parseAllDocuments } from 'yaml';

/** The annotation that sends a pod to the ImagePullBackOff stage; its value is the waiting reason. */
export const FAIL_ANNOTATION = 'kwok.canary.sprincube.io/fail';

/** A stage's YAML with a `DoesNotExist` on FAIL_ANNOTATION added to its selector. */
export function withoutFailingPods(stageYaml: string): string {
  const docs = parseAllDocuments(stageYaml);
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`KWOK stage: ${doc.errors[0].message}`);
    const expressions = doc.getIn(['spec', 'selector', 'matchExpressions']);
    if (!expressions || typeof expressions !== 'object' || !('add' in expressions)) {
      throw new Error('KWOK stage: no spec.selector.matchExpressions to extend');
    }
    doc.addIn(['spec', 'selector', 'matchExpressions'], {
      key: `.metadata.annotations["${FAIL_ANNOTATION}"]`,
      operator: 'DoesNotExist',
    });
  }
  return docs.map((doc) => doc.toString()).join('---\n');
}
