import fc from 'fast-check';
import { resolveVotes, type Choice, type Vote } from '../../domain/governance/delegation';
import { DEFAULT_GOVERNANCE, type GovernanceModel, type GovernanceSettings } from '../../domain/governance/settings';
import { tally } from '../../domain/governance/tally';

const members = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);
const weightsOf = (ids: string[], weight = 10_000n) => new Map(ids.map((id) => [id, weight]));
const direct = (choices: Array<Choice | undefined>, reason?: string) =>
  new Map(choices.flatMap((c, i) => (c ? [[`m${i}`, { choice: c, ...(c === 'objection' && reason ? { reason } : {}) }] as [string, Vote]] : [])));
const settings = (model: GovernanceModel, over: Partial<GovernanceSettings> = {}): GovernanceSettings => ({ ...DEFAULT_GOVERNANCE, model, ...over });

function run(model: GovernanceModel, choices: Array<Choice | undefined>, over: Partial<GovernanceSettings> = {}, reason?: string) {
  const ids = members(choices.length);
  return tally(settings(model, over), weightsOf(ids), resolveVotes(ids, direct(choices, reason), new Map()));
}

describe('majority with quorum', () => {
  it('passes above half of yes+no, and exactly half is not more than half', () => {
    expect(run('majority', ['yes', 'yes', 'no', undefined]).outcome).toBe('approved');
    expect(run('majority', ['yes', 'no', undefined, undefined]).outcome).toBe('rejected'); // 1 of 2 is not > 0.5
    expect(run('majority', ['yes', 'no'], { majority: { basisPoints: 5_000, comparison: '>=' } }).outcome).toBe('approved');
  });

  it('needs the quorum: exactly half takes part meets >= 0.5, one fewer misses it', () => {
    expect(run('majority', ['yes', 'yes', undefined, undefined])).toMatchObject({ outcome: 'approved', quorumMet: true });
    const missed = run('majority', ['yes', undefined, undefined, undefined]);
    expect(missed).toMatchObject({ outcome: 'rejected', quorumMet: false, reason: 'quorum not met' });
  });

  it('counts abstentions toward quorum only', () => {
    expect(run('majority', ['yes', 'abstain', 'abstain', undefined]).outcome).toBe('approved');
  });

  it('weighs votes', () => {
    const ids = members(3);
    const weights = new Map([['m0', 50_000n], ['m1', 10_000n], ['m2', 10_000n]]);
    const votes = resolveVotes(ids, direct(['yes', 'no', 'no']), new Map());
    expect(tally(settings('majority'), weights, votes).outcome).toBe('approved');
  });
});

describe('supermajority', () => {
  it('reaches 0.66 with >=; 0.6 falls short', () => {
    const fifty = Array<Choice>(33).fill('yes').concat(Array<Choice>(17).fill('no')); // 33/50 = 0.66
    expect(run('supermajority', fifty).outcome).toBe('approved');
    expect(run('supermajority', ['yes', 'yes', 'yes', 'no', 'no']).outcome).toBe('rejected');
  });
});

describe('consensus models', () => {
  it('consensus fails with a single block or a single no', () => {
    expect(run('consensus', ['yes', 'yes', 'yes']).outcome).toBe('approved');
    expect(run('consensus', ['yes', 'yes', 'block'])).toMatchObject({ outcome: 'rejected', reason: 'blocked' });
    expect(run('consensus', ['yes', 'yes', 'no']).outcome).toBe('rejected');
  });

  it('consensus-minus-one tolerates one dissenter, not two', () => {
    expect(run('consensus_minus_one', ['yes', 'yes', 'block']).outcome).toBe('approved');
    expect(run('consensus_minus_one', ['yes', 'no', 'block']).outcome).toBe('rejected');
  });

  it('sociocratic consent passes unless a reasoned objection stands', () => {
    expect(run('sociocratic_consent', ['yes', 'no', 'abstain']).outcome).toBe('approved');
    expect(run('sociocratic_consent', ['yes', 'yes', 'objection'], {}, 'this breaks our budget rule').outcome).toBe('rejected');
    expect(run('sociocratic_consent', ['yes', 'yes', 'objection'], {}, '   ').outcome).toBe('approved');
  });
});

describe('delegation', () => {
  const eligible = members(5);
  it('follows a chain to the first direct voter; a direct vote overrides delegation', () => {
    const delegations = new Map([['m0', 'm1'], ['m1', 'm2'], ['m3', 'm2']]);
    const votes = resolveVotes(eligible, direct([undefined, undefined, 'yes', 'no']), delegations);
    expect(votes.get('m0')).toMatchObject({ choice: 'yes', castBy: 'm2', delegated: true });
    expect(votes.get('m1')).toMatchObject({ choice: 'yes', castBy: 'm2' });
    expect(votes.get('m3')).toMatchObject({ choice: 'no', castBy: 'm3', delegated: false });
    expect(votes.has('m4')).toBe(false);
  });

  it('a loop with no direct voter casts nothing', () => {
    const votes = resolveVotes(eligible, new Map(), new Map([['m0', 'm1'], ['m1', 'm2'], ['m2', 'm0']]));
    expect(votes.size).toBe(0);
  });

  it('a delegate block or objection is personal: delegators count as no', () => {
    const votes = resolveVotes(eligible, direct([undefined, 'block']), new Map([['m0', 'm1']]));
    expect(votes.get('m0')).toMatchObject({ choice: 'no' });
  });
});

describe('tally properties', () => {
  const choice = fc.constantFrom<Choice>('yes', 'no', 'abstain', 'block', 'objection');
  const ballot = fc.array(fc.option(choice, { nil: undefined }), { minLength: 1, maxLength: 30 });

  it('with majority, turning a no into a yes never turns approval into rejection', () => {
    fc.assert(
      fc.property(ballot, fc.nat(), (choices, pick) => {
        const noAt = choices.map((c, i) => (c === 'no' ? i : -1)).filter((i) => i >= 0);
        fc.pre(noAt.length > 0);
        const before = run('majority', choices);
        const after = [...choices];
        after[noAt[pick % noAt.length]!] = 'yes';
        if (before.outcome === 'approved') expect(run('majority', after).outcome).toBe('approved');
      }),
    );
  });

  it('consensus fails whenever anyone blocks', () => {
    fc.assert(
      fc.property(ballot, fc.nat(), (choices, at) => {
        const withBlock = [...choices];
        withBlock[at % withBlock.length] = 'block';
        expect(run('consensus', withBlock).outcome).toBe('rejected');
      }),
    );
  });

  it('totals add up: participating weight is the sum of every choice', () => {
    fc.assert(
      fc.property(ballot, (choices) => {
        const t = run('majority', choices).totals;
        expect(t.yes + t.no + t.abstain + t.block + t.objection).toBe(t.participating);
        expect(t.participating <= t.eligible).toBe(true);
      }),
    );
  });
});
