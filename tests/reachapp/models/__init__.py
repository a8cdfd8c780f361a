from .boards import *
from .reviews import *
