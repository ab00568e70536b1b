"""What one GraphQL document may ask, checked before anything runs, and the error codes clients see.

- depth (strawberry's ``QueryDepthLimiter``): 15 levels fits GraphiQL's introspection query and
  the deepest sensible domain query with room to spare;
- size (``MaxTokensLimiter``) and aliases (``MaxAliasesLimiter``), so a document cannot repeat one
  expensive field under a thousand names;
- cost (:func:`cost_rule`, ours: strawberry has none): an upper bound of the objects the query
  may return. A field costs 1; a field taking ``first`` multiplies what is below it by ``first``
  (the page-size cap when it is a variable); any other list multiplies by ``LIST_FACTOR``
  (except those in :func:`_walked_once`). A
  micro-credential page of 50 with providers and review summaries costs a few thousand; the
  same page nested three times through providers costs hundreds of thousands and is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
)
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from gateway.errors import ErrorCode, GatewayError
from gateway.settings import GatewaySettings
from mimis_platform.logs import get_logger

LIST_FACTOR = 10
#: A type's lists in introspection. Nesting one inside another (``fields { type { fields ... } }``)
#: multiplies by the whole schema at each level, and no tool needs it (GraphiQL's query follows
#: type references with ``ofType``), so it costs more than any limit.
_TYPE_LISTS = frozenset({"fields", "inputFields", "interfaces", "possibleTypes", "enumValues"})
UNBOUNDED = 10**9

_log = get_logger(__name__)


def _is_list(field_type: Any) -> bool:
    while isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def _walked_once(parent: Any, name: str) -> bool:
    """Lists that do not multiply: a connection's edges and nodes (its ``first`` already did), and
    ``__schema.types``, the schema's own list of types, which introspection reads once (the lists
    below it count as usual, so nested introspection bombs are still refused)."""
    parent_name = parent.name if isinstance(parent, GraphQLObjectType) else ""
    return parent_name.endswith("Connection") or (parent_name == "__Schema" and name == "types")


class _Costing:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], page_cap: int) -> None:
        self.schema, self.fragments, self.page_cap = schema, fragments, page_cap

    def cost(self, selection_set: SelectionSetNode, parent: Any, seen: frozenset[str] = frozenset(),
             in_type_list: bool = False) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, seen, in_type_list)
            elif isinstance(selection, InlineFragmentNode):
                on = self.schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                total += self.cost(selection.selection_set, on or parent, seen, in_type_list)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # unknown or cyclic: other rules report it
                    continue
                on = self.schema.get_type(fragment.type_condition.name.value)
                total += self.cost(fragment.selection_set, on or parent, seen | {name}, in_type_list)
        return total

    def _field(self, node: FieldNode, parent: Any, seen: frozenset[str], in_type_list: bool) -> int:
        fields = getattr(parent, "fields", None) or {}
        name = node.name.value
        definition = fields.get(name)
        if definition is None and name == "__schema":
            definition_type: Any = self.schema.get_type("__Schema")
        elif definition is None and name == "__type":
            definition_type = self.schema.get_type("__Type")
        elif definition is None:
            return 1
        else:
            definition_type = definition.type
        if node.selection_set is None:
            return 1
        factor = 1
        first = next((a for a in node.arguments or () if a.name.value == "first"), None)
        if first is not None:
            factor = int(first.value.value) if isinstance(first.value, IntValueNode) else self.page_cap
        elif definition is not None and "first" in definition.args:
            default = definition.args["first"].default_value
            factor = default if isinstance(default, int) else self.page_cap
        elif _is_list(definition_type) and not _walked_once(parent, name):
            factor = LIST_FACTOR
        type_list = isinstance(parent, GraphQLObjectType) and parent.name == "__Type" and name in _TYPE_LISTS
        if type_list and in_type_list:
            return UNBOUNDED
        return 1 + max(factor, 1) * self.cost(node.selection_set, get_named_type(definition_type), seen,
                                              in_type_list or type_list)


def cost_rule(max_cost: int, page_cap: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            document = self.context.document
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            root = self.context.schema.get_root_type(node.operation)
            if root is None:
                return
            cost = _Costing(self.context.schema, fragments, page_cap).cost(node.selection_set, root)
            if cost > max_cost:
                why = ("nests a type's lists inside another's in introspection" if cost >= UNBOUNDED
                       else f"may cost {cost}, more than the limit of {max_cost}; ask for smaller pages or fewer "
                            "nested lists")
                self.report_error(GraphQLError(
                    f"the query {why}",
                    node, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value, "cost": cost, "maxCost": max_cost}))

    return CostLimit


class ErrorCodes(SchemaExtension):
    """Every error leaves with ``extensions.code``; the rules' own codes and GatewayErrors keep theirs."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [self._coded(e) for e in errors]

    @staticmethod
    def _coded(error: GraphQLError) -> GraphQLError:
        if error.extensions and "code" in error.extensions:
            return error
        if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
            return error  # an unexpected fault: MaskErrors gives it its code
        message = error.message
        if "exceeds maximum operation depth" in message:
            code = ErrorCode.QUERY_TOO_DEEP
        elif message.startswith("Syntax Error"):
            code = ErrorCode.GRAPHQL_PARSE_FAILED
        else:
            code = ErrorCode.GRAPHQL_VALIDATION_FAILED
        return GraphQLError(message, error.nodes, error.source, error.positions, error.path, error.original_error,
                            extensions={**(error.extensions or {}), "code": code.value})


class MaskUnexpectedErrors(MaskErrors):
    """An error that is not a :class:`GatewayError` (nor a document the rules refused) is a fault of
    ours: logged with its stack trace, and shown to the client as INTERNAL_SERVER_ERROR without detail
    (in production; elsewhere the message stays, to help developers)."""

    def __init__(self, production: bool) -> None:
        super().__init__(should_mask_error=self._unexpected, error_message="Internal server error.")
        self.production = production

    @staticmethod
    def _unexpected(error: GraphQLError) -> bool:
        original = error.original_error
        return original is not None and not isinstance(original, GatewayError | GraphQLError)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        _log.error("unexpected error in a resolver", path=error.path, exc_info=error.original_error)
        message = self.error_message if self.production else f"{self.error_message} {error.message}"
        return GraphQLError(message, error.nodes, error.source, error.positions, error.path, None,
                            extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value})


def extensions(settings: GatewaySettings) -> list[Any]:
    """Factories, so that each operation gets fresh extension instances. The validation rules are made
    once: the validation cache is keyed by document *and* rules, and clients send the same few
    documents again and again, so each is validated (limits and cost rule included) once per process."""
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_query_aliases).validation_rules,
        cost_rule(settings.max_query_cost, settings.max_page_size),
    ]
    production = settings.environment == "production"
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=1024),
        lambda: MaskUnexpectedErrors(production=production),
        ErrorCodes,
    ]
