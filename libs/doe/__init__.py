"""Design of experiments: factor spaces, designs (pyDOE) and their analysis (statsmodels).

Pure library: no Prefect, no MLflow. A sweep flow validates a `FactorSpace`
and a `DesignSpec`, calls `generate_design`, applies each point to a training
config with `apply_point`, and analyses the responses with the functions below.
"""

from libs.doe.analysis import anova_table, interaction_effects, main_effects
from libs.doe.config import apply_point, set_dotted
from libs.doe.designs import Design, coded_matrix, generate_design
from libs.doe.space import (
    CategoricalFactor,
    ContinuousFactor,
    Factor,
    FactorSpace,
    IntegerFactor,
)
from libs.doe.specs import (
    AugmentToCCD,
    BoxBehnken,
    CentralComposite,
    DesignSpec,
    FoldOver,
    FractionalFactorial,
    FullFactorial,
    LatinHypercube,
    PlackettBurman,
)
from libs.doe.surface import ResponseSurface, response_surface

__all__ = [
    "AugmentToCCD",
    "BoxBehnken",
    "CategoricalFactor",
    "CentralComposite",
    "ContinuousFactor",
    "Design",
    "DesignSpec",
    "Factor",
    "FactorSpace",
    "FoldOver",
    "FractionalFactorial",
    "FullFactorial",
    "IntegerFactor",
    "LatinHypercube",
    "PlackettBurman",
    "ResponseSurface",
    "anova_table",
    "apply_point",
    "coded_matrix",
    "generate_design",
    "interaction_effects",
    "main_effects",
    "response_surface",
    "set_dotted",
]
