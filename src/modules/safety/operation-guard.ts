import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  NoSchemaIntrospectionCustomRule,
  getOperationAST,
  valueFromASTUntyped,
  visit,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { LimitsConfig } from '../../config/config';
import { checkStrings } from '../../shared/strings';
import type { GuardedOperation, OperationGuard } from '../../shared/operation-guard';
import type { RateLimitName, RateLimits } from './rate-limits';

/** The rate limit of each mutation that has one, and what it counts by. */
const FIELD_LIMITS: Readonly<Record<string, { limit: RateLimitName; by: 'user' | 'ip' }>> = {
  sendMessage: { limit: 'send', by: 'user' },
  login: { limit: 'loginIp', by: 'ip' },
  register: { limit: 'registerIp', by: 'ip' },
  setTyping: { limit: 'typing', by: 'user' },
  markConversationRead: { limit: 'readReceipts', by: 'user' },
  setPresenceStatus: { limit: 'presence', by: 'user' },
  setActiveConversation: { limit: 'presence', by: 'user' },
};

/** SocketAdmission flags (src/shared/operation-guard.ts): the socket holds a place in the per-user / per-address cap. */
const COUNTED_USER = 1;
const COUNTED_IP = 2;

/**
 * The cost of a field: 1, plus its selection's cost times its `first` argument (a page of that
 * many items), the idea of graphql-query-complexity's own examples. Other lists count once.
 */
const pageCost: ComplexityEstimator = ({ args, childComplexity }) =>
  1 + (typeof args.first === 'number' && args.first > 0 ? args.first : 1) * childComplexity;

/**
 * The safety policy of every operation on both transports (see {@link OperationGuard}):
 * - parse: at most `maxTokens` tokens (graphql-js's own `maxTokens`);
 * - validation: depth, aliases and directives (graphql-armor's rules), no introspection unless
 *   allowed; cached with the document, so each costs once per distinct document;
 * - before execution: cost (graphql-query-complexity with the variables, `first` multiplying),
 *   strings PostgreSQL cannot store, then one rate-limit point per limited mutation field (so
 *   aliased `login` fields count one each);
 * - sockets: open connections per user and per client address.
 */
export function createOperationGuard(schema: GraphQLSchema, limits: LimitsConfig, rates: RateLimits): OperationGuard {
  // Reported to the validation context rather than thrown (armor's default, made for envelop):
  // graphql-js's validate would let a thrown error escape (Apollo answers it with a 500).
  const rejected = (limit: string) => ({
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        rates.refused(limit, 'graphql');
        context?.reportError(error);
      },
    ],
  });
  const validationRules: ValidationRule[] = [
    maxDepthRule({ n: limits.maxDepth, ...rejected('depth') }),
    maxAliasesRule({ n: limits.maxAliases, ...rejected('aliases') }),
    maxDirectivesRule({ n: limits.maxDirectives, ...rejected('directives') }),
  ];
  if (!limits.introspection) validationRules.push(NoSchemaIntrospectionCustomRule);

  return {
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules,
    fieldSuggestions: limits.fieldSuggestions,
    maxSubscriptionsPerSocket: limits.wsSubscriptionsPerSocket,
    async check({ document, operationName, variables, context }: GuardedOperation) {
      const operation = getOperationAST(document, operationName);
      if (!operation) return;
      checkCost(schema, document, operationName, variables, limits.maxCost, rates);
      checkArgumentStrings(operation.selectionSet, document, variables ?? {});
      if (operation.operation !== OperationTypeNode.MUTATION) return;
      for (const field of rootFields(operation, document)) {
        const rule = FIELD_LIMITS[field];
        if (!rule) continue;
        const key = rule.by === 'user' && context.user ? context.user.id : `ip:${context.clientIp ?? ''}`;
        await rates.consume(rule.limit, key);
      }
    },
    // Both caps at once (their points go to Redis in one call); a socket refused by one gives
    // back its place in the other.
    async admitSocket(viewer, clientIp) {
      const [user, ip] = await Promise.allSettled([
        rates.enter('wsConnectionsPerUser', viewer.user.id),
        rates.enter('wsConnectionsPerIp', clientIp),
      ]);
      if (user.status === 'rejected' || ip.status === 'rejected') {
        if (user.status === 'fulfilled' && user.value) rates.leave('wsConnectionsPerUser', viewer.user.id);
        if (ip.status === 'fulfilled' && ip.value) rates.leave('wsConnectionsPerIp', clientIp);
        throw user.status === 'rejected' ? user.reason : (ip as PromiseRejectedResult).reason;
      }
      return (user.value ? COUNTED_USER : 0) | (ip.value ? COUNTED_IP : 0);
    },
    leaveSocket(viewer, clientIp, admission) {
      if (admission & COUNTED_USER) rates.leave('wsConnectionsPerUser', viewer.user.id);
      if (admission & COUNTED_IP) rates.leave('wsConnectionsPerIp', clientIp);
    },
    refused: (limit, reason) => rates.refused(limit, reason),
  };
}

/** Most costs remembered per document (distinct `first` values). */
const COSTS_PER_DOCUMENT = 64;

/** The costs of one document by operation name and the values of its `first` variables. */
interface KnownCosts {
  /** The variables given as a `first` argument or to a directive: the only inputs of its cost. */
  firstVariables: string[];
  costs: Map<string, number>;
}

/**
 * The costs computed per parsed document (Apollo and the WebSocket transport reuse the parsed
 * document of a query text, so identity is the cache key). {@link pageCost} reads only `first`,
 * (and @include/@skip decide what counts), so a cost depends on the document, the operation and
 * those variables alone: a send, whose
 * variables change every time, is costed once per document instead of once per request.
 */
const knownCosts = new WeakMap<DocumentNode, KnownCosts>();

function costsOf(document: DocumentNode): KnownCosts {
  let known = knownCosts.get(document);
  if (!known) {
    const firstVariables = new Set<string>();
    visit(document, {
      Argument(node) {
        if (node.name.value === 'first' && node.value.kind === Kind.VARIABLE) firstVariables.add(node.value.name.value);
      },
      // @include(if: $x) and @skip(if: $x) decide which fields count.
      Directive(node) {
        for (const arg of node.arguments ?? [])
          if (arg.value.kind === Kind.VARIABLE) firstVariables.add(arg.value.name.value);
      },
    });
    known = { firstVariables: [...firstVariables], costs: new Map() };
    knownCosts.set(document, known);
  }
  return known;
}

/**
 * @throws GraphQLError GRAPHQL_VALIDATION_FAILED (status 400, `extensions.limit: cost`) over `maxCost`.
 */
function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  maxCost: number,
  rates: RateLimits,
): void {
  const known = costsOf(document);
  const key = `${operationName ?? ''}|${known.firstVariables.map((v) => JSON.stringify(variables?.[v] ?? null)).join(',')}`;
  let cost = known.costs.get(key);
  if (cost === undefined) {
    try {
      cost = getComplexity({
        schema,
        query: document,
        operationName: operationName ?? undefined,
        variables: variables ?? {},
        estimators: [pageCost],
      });
    } catch {
      // Variables that do not coerce: execution answers them as BAD_USER_INPUT.
      return;
    }
    if (known.costs.size < COSTS_PER_DOCUMENT) known.costs.set(key, cost);
  }
  if (cost > maxCost) {
    rates.refused('cost', 'graphql');
    throw new GraphQLError(`Operation cost ${cost} exceeds the limit of ${maxCost}`, {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'cost', cost, maxCost, http: { status: 400 } },
    });
  }
}

/** Every argument value of every field (fragments included), checked with {@link checkStrings}. */
function checkArgumentStrings(
  selectionSet: SelectionSetNode,
  document: DocumentNode,
  variables: Record<string, unknown>,
  seen = new Set<string>(),
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      for (const arg of selection.arguments ?? [])
        checkStrings(valueFromASTUntyped(arg.value, variables), arg.name.value);
      if (selection.selectionSet) checkArgumentStrings(selection.selectionSet, document, variables, seen);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      checkArgumentStrings(selection.selectionSet, document, variables, seen);
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragmentNamed(document, selection.name.value);
      if (fragment) checkArgumentStrings(fragment.selectionSet, document, variables, seen);
    }
  }
}

/** The names of an operation's root fields, one per field (aliases count separately). */
function rootFields(operation: OperationDefinitionNode, document: DocumentNode): string[] {
  const names: string[] = [];
  const walk = (set: SelectionSetNode, seen: Set<string>) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) names.push(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet, seen);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragmentNamed(document, selection.name.value);
        if (fragment) walk(fragment.selectionSet, seen);
      }
    }
  };
  walk(operation.selectionSet, new Set());
  return names;
}

function fragmentNamed(document: DocumentNode, name: string) {
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name) return d;
  return undefined;
}
