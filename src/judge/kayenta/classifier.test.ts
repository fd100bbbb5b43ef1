import { describe, expect, it } from 'vitest';
import { kayentaClassify } from './classifier.ts';

// Cases from spinnaker/kayenta kayenta-judge/src/test/scala/com/netflix/kayenta/judge/ClassifierSuite.scala
// as listed in STATS.md section 6 (tolerance 0.10, confidence 0.95 unless stated). Classifications are
// exact; no numeric tolerance involved.
const KAYENTA_TEST = { tolerance: 0.1, confidence: 0.95 } as const;

// ClassifierSuite "Mann-Whitney Classifier Test" data (30 observations per arm).
const EXPERIMENT_NEAR_10 = [
  9.7767343120109462, 10.587071850477695, 7.8375506388901766, 9.3243326886113884, 8.3774505409784421,
  8.9359264399606282, 8.2707663324728511, 9.7484308126716925, 11.623746715547156, 9.2753442679633942,
  8.1538047749171518, 10.562020975754294, 13.498135575451835, 11.054419256110332, 6.9538903590055092,
  12.521008342195479, 9.0216358603546443, 4.9234856699531662, 11.251360203607172, 11.598449508040337, 8.435232204668182,
  11.110228516867279, 10.70063380164755, 8.9212773652115249, 10.086167067942661, 11.42107515483087, 9.3792347813644952,
  7.7980320148552593, 10.62339807275746, 11.909642062063739,
];
const CONTROL_NEAR_10 = [
  11.1453586774086, 9.9618059885597017, 7.068574306369829, 7.3012661810483657, 9.7944630265656727, 9.6037918603687302,
  6.1867793350339388, 12.345599159550174, 10.371891733859533, 8.6094300785016724, 9.913162673361084, 10.361375299003466,
  14.206800387518818, 10.946153754753301, 10.215876627044048, 11.739760899484603, 10.907627468626439,
  12.823353694464775, 8.1018609771732137, 8.4981616408804932, 12.113441374697231, 13.272210809932028,
  10.114579381663297, 6.9463958767978067, 6.2105278541727778, 10.160401684903775, 8.3457712066455461, 8.383822063895833,
  7.0020205070083765, 10.755757401808442,
];
const EXPERIMENT_NEAR_20 = [
  20.878412601720026, 21.78550581191622, 19.70828084717019, 15.859946903461562, 19.510058772176841, 19.392005525270303,
  22.926528314912101, 17.156530276709894, 18.655117916226171, 23.422607911610392, 24.055817684156644, 22.62689958516501,
  21.979472967817678, 21.659318607218694, 20.067707574072426, 22.119570836305414, 16.44037132663307, 21.559622826341268,
  21.000181443489218, 17.779369411412663, 17.806006358943584, 18.537200618386109, 20.555550300210797,
  19.552928184468378, 21.771118944087092, 21.809622806176627, 20.961762909905271, 20.977571577503021,
  19.106303205498794, 16.976918966987078,
];
const CONTROL_NEAR_20 = [
  20.758113589510348, 22.802059629464559, 20.612340363492208, 20.973274654749986, 23.469237330498622, 21.53133988954805,
  21.767353687439805, 18.308050730374301, 19.062145167827566, 25.879498436001779, 18.982629726336128,
  19.387920182269266, 18.995398251246982, 24.228420230932805, 20.050985172694688, 18.2340451091756, 17.870515494460435,
  23.058103863806618, 18.400259567501134, 16.971352091177167, 19.467529066052151, 17.90465423342031, 17.553948617825831,
  16.104611843907193, 24.38171081433039, 15.919294339922635, 20.479409626304697, 19.08307201492406, 17.455788050722866,
  18.853826823235142,
];

describe('kayentaClassify: STATS.md section 6 cases', () => {
  it('E = [20,22,21,25,30], B = [1.0,2.2,1.1,2.5,3.0], effect sizes (0.8, 1.2): High', () => {
    const r = kayentaClassify([1.0, 2.2, 1.1, 2.5, 3.0], [20, 22, 21, 25, 30], {
      ...KAYENTA_TEST,
      allowedDecrease: 0.8,
      allowedIncrease: 1.2,
    });
    expect(r.classification).toBe('High');
    expect(r.effectSize).toBeCloseTo(23.6 / 1.96, 12);
  });
  it('E = [10,12.2,10.1,12.5,23], B = [20,22,21,25,30], effect sizes (0.5, 1.0): Pass (mean ratio 0.575 above 0.5)', () => {
    const r = kayentaClassify([20, 22, 21, 25, 30], [10, 12.2, 10.1, 12.5, 23], {
      ...KAYENTA_TEST,
      allowedDecrease: 0.5,
      allowedIncrease: 1.0,
    });
    expect(r.classification).toBe('Pass');
    expect(r.effectSize).toBeCloseTo(13.56 / 23.6, 12);
  });
  it('the effect-size floor turns a clear decrease into a Pass when the mean ratio is above allowedDecrease', () => {
    const b = [20, 22, 21, 25, 30];
    const c = [10, 11, 10.5, 12, 13];
    expect(kayentaClassify(b, c, KAYENTA_TEST).classification).toBe('Low');
    expect(kayentaClassify(b, c, { ...KAYENTA_TEST, allowedDecrease: 0.4 }).classification).toBe('Pass');
    expect(kayentaClassify(c, b, { ...KAYENTA_TEST, allowedIncrease: 2.5 }).classification).toBe('Pass');
    expect(kayentaClassify(c, b, { ...KAYENTA_TEST, allowedIncrease: 1.5 }).classification).toBe('High');
  });
  it('E = [1,1,1,1,10], B = [1,1,1,1,1]: Pass', () => {
    expect(kayentaClassify([1, 1, 1, 1, 1], [1, 1, 1, 1, 10], KAYENTA_TEST).classification).toBe('Pass');
  });
  it('E = [10,10,10,10,10], B = [1,1,1,1,1]: High', () => {
    const r = kayentaClassify([1, 1, 1, 1, 1], [10, 10, 10, 10, 10], KAYENTA_TEST);
    expect(r.classification).toBe('High');
    expect(r.interval).toMatchObject({ lower: 9, upper: 9, estimate: 9 });
  });
  it('E = [], B = [1,2,3,4,5]: Nodata; with mustHaveData: NodataFailMetric; critical keeps Nodata', () => {
    expect(kayentaClassify([1, 2, 3, 4, 5], [], KAYENTA_TEST).classification).toBe('Nodata');
    expect(kayentaClassify([1, 2, 3, 4, 5], [], { ...KAYENTA_TEST, mustHaveData: true }).classification).toBe(
      'NodataFailMetric',
    );
    expect(
      kayentaClassify([1, 2, 3, 4, 5], [], { ...KAYENTA_TEST, mustHaveData: true, critical: true }).classification,
    ).toBe('Nodata');
  });
  it('known blind spots, reproduced: [100 x7, 1 x3] vs [1 x10] and sparse errors [0,1,2,1,0,0] vs [0 x6] pass', () => {
    const spikes = [...Array<number>(7).fill(100), 1, 1, 1];
    expect(kayentaClassify(Array<number>(10).fill(1), spikes).classification).toBe('Pass');
    expect(kayentaClassify(Array<number>(6).fill(0), [0, 1, 2, 1, 0, 0]).classification).toBe('Pass');
  });
});

describe('kayentaClassify: ClassifierSuite 30-observation cases (fraction 0.10, confidence 0.95)', () => {
  it('either direction: Pass, High, Low', () => {
    expect(
      kayentaClassify(CONTROL_NEAR_10, EXPERIMENT_NEAR_10, { ...KAYENTA_TEST, direction: 'either' }).classification,
    ).toBe('Pass');
    expect(
      kayentaClassify(CONTROL_NEAR_10, EXPERIMENT_NEAR_20, { ...KAYENTA_TEST, direction: 'either' }).classification,
    ).toBe('High');
    expect(
      kayentaClassify(CONTROL_NEAR_20, EXPERIMENT_NEAR_10, { ...KAYENTA_TEST, direction: 'either' }).classification,
    ).toBe('Low');
  });
  it('directional: a decrease passes when only increases count, and vice versa', () => {
    expect(
      kayentaClassify(CONTROL_NEAR_20, EXPERIMENT_NEAR_10, { ...KAYENTA_TEST, direction: 'increase' }).classification,
    ).toBe('Pass');
    expect(
      kayentaClassify(CONTROL_NEAR_10, EXPERIMENT_NEAR_20, { ...KAYENTA_TEST, direction: 'decrease' }).classification,
    ).toBe('Pass');
    expect(
      kayentaClassify(CONTROL_NEAR_10, EXPERIMENT_NEAR_20, { ...KAYENTA_TEST, direction: 'increase' }).classification,
    ).toBe('High');
    expect(
      kayentaClassify(CONTROL_NEAR_20, EXPERIMENT_NEAR_10, { ...KAYENTA_TEST, direction: 'decrease' }).classification,
    ).toBe('Low');
  });
  it('tied, identical and leading-zero populations pass', () => {
    expect(kayentaClassify([1, 1], [1, 1, 1], { ...KAYENTA_TEST, direction: 'decrease' }).classification).toBe('Pass');
    expect(
      kayentaClassify([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], { ...KAYENTA_TEST, direction: 'decrease' }).classification,
    ).toBe('Pass');
    expect(
      kayentaClassify([1, 1, 1, 1, 1], [0, 1, 1, 1, 1], { ...KAYENTA_TEST, direction: 'decrease' }).classification,
    ).toBe('Pass');
  });
});

describe('kayentaClassify: NaN handling, defaults and input checks', () => {
  it('NaN values are removed by default and replaced by 0 on request', () => {
    const removed = kayentaClassify([1, 1, NaN, 1, 1, 1], [10, 10, 10, NaN, 10, 10]);
    expect(removed.n).toEqual({ baseline: 5, canary: 5 });
    expect(removed.classification).toBe('High');
    const onlyNaN = kayentaClassify([1, 2, 3], [NaN, NaN]);
    expect(onlyNaN.classification).toBe('Nodata');
    const replaced = kayentaClassify([1, 2, 3], [NaN, NaN], { nanStrategy: 'replace' });
    expect(replaced.n.canary).toBe(2);
    expect(replaced.classification).not.toBe('Nodata');
  });
  it('defaults are tolerance 0.25 and confidence 0.98: a shift that is High at 0.95 may pass at 0.98', () => {
    const b = [10, 11, 12, 13, 14];
    const c = [13, 14, 15, 16, 17];
    const strict = kayentaClassify(b, c, { tolerance: 0.25, confidence: 0.8 });
    const defaults = kayentaClassify(b, c);
    expect(defaults.interval!.confidence).toBe(0.98);
    expect(defaults.interval!.lower).toBeLessThan(strict.interval!.lower);
  });
  it('rejects infinite values and bad options by name', () => {
    expect(() => kayentaClassify([1, Infinity], [1])).toThrow(/baseline\[1\] must be a finite number or NaN/);
    expect(() => kayentaClassify([1], [1], { confidence: 2 })).toThrow(/confidence must be in \(0, 1\)/);
    expect(() => kayentaClassify([1], [1], { direction: 'sideways' as never })).toThrow(/direction must be/);
  });
});
