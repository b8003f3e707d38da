import {
  IdentifierNode,
  OperationNodeTransformer,
  type CreateIndexNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type SchemableIdentifierNode,
  type UniqueConstraintNode,
  type UnknownRow,
} from 'kysely';

/**
 * Gives the credential store's tables and indexes a prefix in a database it shares with the control plane
 * (`credentials` becomes `credhub_credentials`), so the queries keep their short names. Only the store's own
 * table names are renamed (a query's aliases are left alone); every index and unique constraint it creates
 * is prefixed, since their names are one namespace per database.
 */
export class TablePrefixPlugin implements KyselyPlugin {
  private readonly transformer: TablePrefixTransformer;

  constructor(prefix: string, tables: readonly string[]) {
    this.transformer = new TablePrefixTransformer(prefix, new Set(tables));
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node, args.queryId);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

class TablePrefixTransformer extends OperationNodeTransformer {
  constructor(
    private readonly prefix: string,
    private readonly tables: ReadonlySet<string>,
  ) {
    super();
  }

  protected override transformSchemableIdentifier(
    node: SchemableIdentifierNode,
    queryId?: Parameters<OperationNodeTransformer['transformNode']>[1],
  ): SchemableIdentifierNode {
    const t = super.transformSchemableIdentifier(node, queryId);
    return this.tables.has(t.identifier.name)
      ? { ...t, identifier: IdentifierNode.create(this.prefix + t.identifier.name) }
      : t;
  }

  protected override transformCreateIndex(
    node: CreateIndexNode,
    queryId?: Parameters<OperationNodeTransformer['transformNode']>[1],
  ): CreateIndexNode {
    const t = super.transformCreateIndex(node, queryId);
    return { ...t, name: IdentifierNode.create(this.prefix + t.name.name) };
  }

  protected override transformUniqueConstraint(
    node: UniqueConstraintNode,
    queryId?: Parameters<OperationNodeTransformer['transformNode']>[1],
  ): UniqueConstraintNode {
    const t = super.transformUniqueConstraint(node, queryId);
    return t.name ? { ...t, name: IdentifierNode.create(this.prefix + t.name.name) } : t;
  }
}
