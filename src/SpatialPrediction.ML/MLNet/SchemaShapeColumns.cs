using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.MLNet;

/// <summary>Schema shapes for estimators' <c>GetOutputSchema</c> (ML.NET keeps these constructors internal; see MLNetInternals.cs).</summary>
internal static class SchemaShapeColumns
{
    /// <summary>A known-size vector of <c>float</c> column.</summary>
    public static SchemaShape.Column FloatVector(string name)
        => new(name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, isKey: false);

    /// <summary>The shape of a concrete schema.</summary>
    public static SchemaShape FromSchema(DataViewSchema schema) => SchemaShape.Create(schema);

    /// <summary>The input shape with <paramref name="columns"/> added (replacing columns of the same names).</summary>
    public static SchemaShape With(SchemaShape input, params SchemaShape.Column[] columns)
        => new(input.Where(c => columns.All(n => n.Name != c.Name)).Concat(columns));
}
