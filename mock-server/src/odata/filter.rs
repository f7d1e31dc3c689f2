//! `$filter` text → [`Expr`], by recursive descent over the tokens of `lexer`.
//!
//! Precedence, loosest first: `or`, `and`, `not`, comparison/`in`. `not` takes the
//! whole comparison after it (`not a eq 'x'` is `not (a eq 'x')`), which is how
//! Graph users write it; OData's grammar would bind `not a` first and then reject
//! the comparison of a boolean with a string.
//!
//! Keyword case follows Graph: `and`/`or`/`not` in any case (`NOT(...)` is in
//! Microsoft's own examples), function and lambda names in any case
//! (`startsWith`), comparison operators and `in` lowercase only, as OData says.

pub(crate) mod lexer;

use lexer::{LexError, Spanned, Token};

use super::{CompareOp, Expr, LambdaKind, Literal, ODataError, Operand, PropertyPath, StringFunction};

/// Deepest nesting of parentheses, `not` and lambdas before we refuse: the
/// parser, checker and evaluator all recurse, and a hostile `((((…` must not
/// overflow the stack.
const MAX_DEPTH: usize = 100;
/// Most nodes one filter may have; `a and b and …` builds a left-deep tree whose
/// depth is its length, so this also bounds recursion in check, eval and drop.
const MAX_NODES: usize = 1000;

/// Parses a `$filter` value (already percent-decoded).
///
/// Property paths are kept as written; inside a lambda a path that starts with
/// the range variable keeps the variable as its first element.
///
/// # Errors
/// `BadRequest` "Invalid filter clause: …" naming the fault and its 0-based
/// character position (the text length when the input ended too early).
pub fn parse_filter(text: &str) -> Result<Expr, ODataError> {
    let tokens = lexer::tokenize(text).map_err(|e| lex_error(text, e))?;
    let mut parser = Parser { text, tokens, at: 0, depth: 0, nodes: 0, scopes: Vec::new() };
    let expr = parser.parse_or()?;
    match parser.peek() {
        None => Ok(expr),
        Some(_) => Err(parser.syntax_error()),
    }
}

fn lex_error(text: &str, e: LexError) -> ODataError {
    let message = match e {
        LexError::BadChar { ch, pos } => {
            format!("Syntax error: character '{ch}' is not valid at position {pos} in '{text}'.")
        }
        LexError::Unterminated { pos } => {
            format!("Unterminated string literal at position {pos} in '{text}'.")
        }
        LexError::BadLiteral { pos } => format!("Syntax error at position {pos} in '{text}'."),
    };
    invalid(message)
}

fn invalid(detail: impl std::fmt::Display) -> ODataError {
    ODataError::bad_request(format!("Invalid filter clause: {detail}"))
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Spanned>,
    at: usize,
    depth: usize,
    nodes: usize,
    /// Range variables of the enclosing lambdas, innermost last.
    scopes: Vec<String>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|s| &s.token)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.at + ahead).map(|s| &s.token)
    }

    /// Where the next token starts, or the end of the text.
    fn pos(&self) -> usize {
        self.tokens.get(self.at).map_or_else(|| self.text.chars().count(), |s| s.pos)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).map(|s| s.token.clone());
        if token.is_some() {
            self.at += 1;
        }
        token
    }

    fn syntax_error(&self) -> ODataError {
        invalid(format!("Syntax error at position {} in '{}'.", self.pos(), self.text))
    }

    fn expected(&self, what: &str) -> ODataError {
        invalid(format!("{what} expected at position {} in '{}'.", self.pos(), self.text))
    }

    fn expect(&mut self, token: &Token, what: &str) -> Result<(), ODataError> {
        if self.peek() == Some(token) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn node(&mut self) -> Result<(), ODataError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(invalid(format!(
                "The query specified in the URI is not valid. The node count limit of '{MAX_NODES}' has been exceeded."
            )));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), ODataError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(invalid(format!(
                "The query specified in the URI is not valid. The recursion depth limit of '{MAX_DEPTH}' has been exceeded."
            )));
        }
        Ok(())
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn parse_or(&mut self) -> Result<Expr, ODataError> {
        let mut left = self.parse_and()?;
        while self.peek_keyword("or") {
            self.at += 1;
            self.node()?;
            let right = self.parse_and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Expr, ODataError> {
        let mut left = self.parse_unary()?;
        while self.peek_keyword("and") {
            self.at += 1;
            self.node()?;
            let right = self.parse_unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Expr, ODataError> {
        // `not(…)` and `not …` both negate. The word is always the operator:
        // Graph has no property called "not" for it to be confused with.
        if self.peek_keyword("not") {
            self.at += 1;
            self.node()?;
            self.enter()?;
            let inner = self.parse_unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.parse_comparison()
    }

    fn parse_comparison(&mut self) -> Result<Expr, ODataError> {
        self.node()?;
        if self.peek() == Some(&Token::LParen) {
            self.at += 1;
            self.enter()?;
            let inner = self.parse_or()?;
            self.depth -= 1;
            self.expect(&Token::RParen, "')' or operator")?;
            return Ok(inner);
        }
        if let (Some(Token::Ident(name)), Some(Token::LParen)) = (self.peek(), self.peek_at(1)) {
            let name = name.clone();
            let call = self.parse_function(&name)?;
            return self.boolean_suffix(call);
        }
        let left = self.parse_operand()?;
        if let Operand::Property(path) = &left {
            if self.peek() == Some(&Token::Slash) {
                let lambda = self.parse_lambda(path.clone())?;
                return self.boolean_suffix(lambda);
            }
        }
        if let Some(op) = self.peek_compare_op() {
            self.at += 1;
            let right = self.parse_operand()?;
            return Ok(Expr::Compare { op, left, right });
        }
        if matches!(self.peek(), Some(Token::Ident(w)) if w == "in") {
            self.at += 1;
            let values = self.parse_in_list()?;
            return Ok(Expr::In { operand: left, values });
        }
        Ok(Expr::Value(left))
    }

    fn peek_compare_op(&self) -> Option<CompareOp> {
        match self.peek() {
            Some(Token::Ident(w)) => match w.as_str() {
                "eq" => Some(CompareOp::Eq),
                "ne" => Some(CompareOp::Ne),
                "gt" => Some(CompareOp::Gt),
                "ge" => Some(CompareOp::Ge),
                "lt" => Some(CompareOp::Lt),
                "le" => Some(CompareOp::Le),
                _ => None,
            },
            _ => None,
        }
    }

    /// `startswith(a,'b') eq true` is the same filter as `startswith(a,'b')`, and
    /// `… eq false` its negation; OData allows both spellings.
    fn boolean_suffix(&mut self, expr: Expr) -> Result<Expr, ODataError> {
        let Some(op @ (CompareOp::Eq | CompareOp::Ne)) = self.peek_compare_op() else {
            return Ok(expr);
        };
        self.at += 1;
        let Some(Token::Literal(Literal::Bool(b))) = self.peek() else {
            return Err(self.syntax_error());
        };
        let keep = *b == (op == CompareOp::Eq);
        self.at += 1;
        Ok(if keep { expr } else { Expr::Not(Box::new(expr)) })
    }

    fn parse_function(&mut self, name: &str) -> Result<Expr, ODataError> {
        let function = match name.to_ascii_lowercase().as_str() {
            "startswith" => StringFunction::StartsWith,
            "endswith" => StringFunction::EndsWith,
            "contains" => StringFunction::Contains,
            _ => {
                return Err(invalid(format!("The query specified in the URI is not valid. Unknown function '{name}'.")))
            }
        };
        self.at += 2;
        let target = self.parse_operand()?;
        self.expect(&Token::Comma, "')' or ','")?;
        let argument = self.parse_operand()?;
        self.expect(&Token::RParen, "')' or ','")?;
        Ok(Expr::Function { function, target, argument })
    }

    /// After `collection` the parser stands on `/`: `any(v: …)`, `all(v: …)` or `any()`.
    fn parse_lambda(&mut self, collection: PropertyPath) -> Result<Expr, ODataError> {
        self.at += 1;
        let kind = match self.peek() {
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("any") => LambdaKind::Any,
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("all") => LambdaKind::All,
            _ => return Err(self.syntax_error()),
        };
        self.at += 1;
        self.expect(&Token::LParen, "'('")?;
        if self.peek() == Some(&Token::RParen) {
            self.at += 1;
            if kind == LambdaKind::All {
                // `all()` has no meaning: OData only defines the empty form for any.
                return Err(self.expected("Range variable"));
            }
            return Ok(Expr::Lambda { kind, collection, variable: String::new(), predicate: None });
        }
        let variable = match self.peek() {
            Some(Token::Ident(v)) if !is_keyword(v) => v.clone(),
            _ => return Err(self.expected("Range variable")),
        };
        if self.scopes.contains(&variable) {
            return Err(invalid(format!(
                "The query specified in the URI is not valid. The range variable '{variable}' has already been declared."
            )));
        }
        self.at += 1;
        self.expect(&Token::Colon, "':'")?;
        self.enter()?;
        self.scopes.push(variable.clone());
        let predicate = self.parse_or();
        self.scopes.pop();
        self.depth -= 1;
        let predicate = predicate?;
        self.expect(&Token::RParen, "')' or operator")?;
        Ok(Expr::Lambda { kind, collection, variable, predicate: Some(Box::new(predicate)) })
    }

    fn parse_operand(&mut self) -> Result<Operand, ODataError> {
        match self.bump() {
            Some(Token::Literal(l)) => Ok(Operand::Literal(l)),
            Some(Token::Ident(first)) if !is_keyword(&first) => {
                let mut path = vec![first];
                // A `/` continues the path unless it introduces a lambda, which the
                // caller handles because it needs the path so far.
                while self.peek() == Some(&Token::Slash) {
                    match (self.peek_at(1), self.peek_at(2)) {
                        (Some(Token::Ident(w)), Some(Token::LParen))
                            if w.eq_ignore_ascii_case("any") || w.eq_ignore_ascii_case("all") =>
                        {
                            break
                        }
                        (Some(Token::Ident(seg)), _) => {
                            path.push(seg.clone());
                            self.at += 2;
                        }
                        _ => {
                            self.at += 1;
                            return Err(self.syntax_error());
                        }
                    }
                }
                Ok(Operand::Property(PropertyPath(path)))
            }
            Some(_) => {
                self.at -= 1;
                Err(self.syntax_error())
            }
            None => Err(self.expected("Expression")),
        }
    }

    fn parse_in_list(&mut self) -> Result<Vec<Literal>, ODataError> {
        self.expect(&Token::LParen, "'('")?;
        let mut values = Vec::new();
        loop {
            match self.bump() {
                Some(Token::Literal(l)) => {
                    self.node()?;
                    values.push(l);
                }
                Some(_) => {
                    self.at -= 1;
                    return Err(self.syntax_error());
                }
                None => return Err(self.expected("Literal")),
            }
            match self.bump() {
                Some(Token::Comma) => continue,
                Some(Token::RParen) => return Ok(values),
                Some(_) => {
                    self.at -= 1;
                    return Err(self.expected("')' or ','"));
                }
                None => return Err(self.expected("')' or ','")),
            }
        }
    }
}

/// Words that are never a property name, so `eq eq 'x'` fails where it starts.
fn is_keyword(word: &str) -> bool {
    ["and", "or", "not"].iter().any(|k| word.eq_ignore_ascii_case(k))
        || ["eq", "ne", "gt", "ge", "lt", "le", "in"].contains(&word)
}

#[cfg(test)]
mod tests;
