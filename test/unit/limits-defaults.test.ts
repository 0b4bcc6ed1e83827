import 'reflect-metadata';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Kind,
  parse,
  specifiedRules,
  validate,
  visit,
  type ASTNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
} from 'graphql';
import { buildParleySchema } from '../../src/app/schema';
import { loadConfig } from '../../src/config/config';
import { modules } from '../../src/modules';
import { createOperationGuard } from '../../src/modules/safety/operation-guard';
import { RateLimits } from '../../src/modules/safety/rate-limits';
import { createLogger } from '../../src/shared/logger';
import { createMetrics } from '../../src/shared/metrics';
import type { Context } from '../../src/shared/context';

const operationsDir = join(__dirname, '../../src/client/operations');
const source = readdirSync(operationsDir)
  .filter((f) => f.endsWith('.graphql'))
  .map((f) => readFileSync(join(operationsDir, f), 'utf8'))
  .join('\n');

/** The fragments `node` spreads, directly or through other fragments. */
function usedFragments(node: ASTNode, fragments: FragmentDefinitionNode[], found = new Set<FragmentDefinitionNode>()) {
  visit(node, {
    FragmentSpread(spread) {
      const fragment = fragments.find((f) => f.name.value === spread.name.value);
      if (fragment && !found.has(fragment)) {
        found.add(fragment);
        usedFragments(fragment, fragments, found);
      }
    },
  });
  return [...found];
}

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildParleySchema(modules);
});

it("passes every client operation under the default limits, with pages of 100 (the API's largest)", async () => {
  const { limits } = loadConfig({});
  const guard = createOperationGuard(
    schema,
    limits,
    new RateLimits(limits, null, '', createMetrics(), createLogger('silent')),
  );
  const all = parse(source, guard.parseOptions);
  const fragments = all.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
  const operations = all.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  expect(operations.length).toBeGreaterThan(10);
  for (const operation of operations) {
    // Each operation with only the fragments it uses (as a client sends it).
    const used = usedFragments(operation, fragments);
    const document = { kind: Kind.DOCUMENT, definitions: [operation, ...used] } as const;
    expect([operation.name?.value, validate(schema, document, [...specifiedRules, ...guard.validationRules])]).toEqual([
      operation.name?.value,
      [],
    ]);
    const variables = Object.fromEntries(
      (operation.variableDefinitions ?? []).filter((v) => v.variable.name.value === 'first').map(() => ['first', 100]),
    );
    await expect(
      guard.check({
        document,
        variables,
        context: {} as Context,
        transport: 'http',
        operationName: operation.name?.value,
      }),
    ).resolves.toBeUndefined();
  }
});
