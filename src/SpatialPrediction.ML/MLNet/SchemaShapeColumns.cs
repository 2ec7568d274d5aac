using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.MLNet;

/// <summary>
/// Builds <see cref="SchemaShape.Column"/> values, whose constructor ML.NET 5.0 keeps internal although every
/// estimator's <c>GetOutputSchema</c> must return them. The one reflective call sits here so that a change in
/// ML.NET breaks one place, loudly (a unit test builds a column through it).
/// </summary>
internal static class SchemaShapeColumns
{
    private static readonly ConstructorInfo Constructor =
        typeof(SchemaShape.Column).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null,
            new[] { typeof(string), typeof(SchemaShape.Column.VectorKind), typeof(DataViewType), typeof(bool), typeof(SchemaShape) }, null)
        ?? throw new MissingMethodException(
            "SchemaShape.Column(string, VectorKind, DataViewType, bool, SchemaShape) was not found: this ML.NET version is not supported.");

    /// <summary>A known-size vector of <c>float</c> column.</summary>
    public static SchemaShape.Column FloatVector(string name)
        => (SchemaShape.Column)Constructor.Invoke(new object?[]
        {
            name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false, null,
        });

    private static readonly MethodInfo CreateFromSchema =
        typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, null,
            new[] { typeof(DataViewSchema) }, null)
        ?? throw new MissingMethodException("SchemaShape.Create(DataViewSchema) was not found: this ML.NET version is not supported.");

    /// <summary>The shape of a concrete schema (ML.NET's own <c>SchemaShape.Create</c>).</summary>
    public static SchemaShape FromSchema(DataViewSchema schema) => (SchemaShape)CreateFromSchema.Invoke(null, new object[] { schema })!;

    /// <summary>The input shape with <paramref name="column"/> added (replacing a column of the same name).</summary>
    public static SchemaShape With(SchemaShape input, SchemaShape.Column column)
        => new(input.Where(c => c.Name != column.Name).Append(column));
}
